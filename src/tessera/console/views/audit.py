"""The audit trail: events newest first with filters and keyset pages, the hash chain's
verification, and the export (CSV or JSON Lines, itself audited as DATA_EXPORTED)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_POST

from tessera.audit.export import export_csv, export_jsonl
from tessera.audit.models import AuditEventType
from tessera.audit.selectors import (
    AuditFilters,
    audit_chain_verify,
    audit_filters_validate,
    audit_iter,
    audit_page,
)
from tessera.audit.services import audit_record, chain_key
from tessera.console.forms import AuditFilterForm
from tessera.console.pages import console_of, console_page, render_page
from tessera.console.paging import (
    PAGE_SIZE,
    BadCursor,
    cursor_dump,
    cursor_load,
    next_page_query,
)
from tessera.errors import ValidationFailed
from tessera.tenancy.selectors import membership_queryset

EXPORT_FORMATS = {
    "csv": (export_csv, "text/csv", "audit-events.csv"),
    "jsonl": (export_jsonl, "application/jsonl", "audit-events.jsonl"),
}


def _filters(form: AuditFilterForm) -> AuditFilters:
    if not form.is_valid():
        raise ValidationFailed(
            "Invalid audit filters",
            errors=[
                {"field": name, "message": " ".join(str(m) for m in msgs), "code": "invalid"}
                for name, msgs in form.errors.items()
            ],
        )
    return audit_filters_validate(**form.filters())


@console_page("audit_log:read")
def audit_index(request: HttpRequest) -> HttpResponse:
    console = console_of(request)
    form = AuditFilterForm(request.GET)
    filters = _filters(form)
    position = cursor_load(request.GET.get("cursor"))
    before = position.get("seq") if position is not None else None
    if position is not None and not isinstance(before, int):
        raise BadCursor("This page link is not valid; start from the first page.")
    events, last = audit_page(
        tenant=console.tenant, filters=filters, before_seq=before, limit=PAGE_SIZE
    )
    query = request.GET.copy()
    query.pop("cursor", None)
    following = cursor_dump({"seq": last}) if last is not None else None
    actor_ids = {e.actor_user_id for e in events if e.actor_user_id}
    emails = dict(
        membership_queryset(tenant=console.tenant)
        .filter(user_id__in=actor_ids)
        .values_list("user_id", "user__email")
    )
    return render_page(
        request,
        "console/audit.html",
        {
            "form": form,
            "events": [(e, emails.get(e.actor_user_id)) for e in events],
            "next_query": next_page_query(request, following),
            "export_query": query.urlencode(),
        },
        section="console:audit",
    )


@require_POST
@console_page("audit_log:read")
def audit_verify(request: HttpRequest) -> HttpResponse:
    report = audit_chain_verify(key=chain_key(console_of(request).tenant.pk))
    return render_page(
        request, "console/audit_verify.html", {"report": report}, section="console:audit"
    )


@console_page("audit_log:export")
def audit_export(request: HttpRequest) -> HttpResponseBase:
    console = console_of(request)
    form = AuditFilterForm(request.GET)
    filters = _filters(form)
    chosen = request.GET.get("format", "jsonl")
    if chosen not in EXPORT_FORMATS:
        raise ValidationFailed(
            "Unknown format",
            errors=[{"field": "format", "message": "csv or jsonl.", "code": "invalid"}],
        )
    render_rows, content_type, filename = EXPORT_FORMATS[chosen]
    audit_record(
        type=AuditEventType.DATA_EXPORTED,
        actor=console.actor,
        tenant_id=console.tenant.pk,
        resource_type="audit_log",
        changes={
            "format": chosen,
            "filters": {k: str(v) for k, v in form.filters().items() if v},
        },
    )
    events = audit_iter(tenant=console.tenant, filters=filters)
    response = StreamingHttpResponse(render_rows(events), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
