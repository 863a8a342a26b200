"""/api/v1/audit-events: query, export (streamed) and chain verification."""

from __future__ import annotations

from typing import Literal

from django.http import StreamingHttpResponse
from ninja import Query, Router

from tessera.access.bridge.guard import requires
from tessera.api.audit.inputs import AuditQuery
from tessera.api.audit.outputs import AuditPage, VerifyOut
from tessera.api.pagination import clamp_limit, decode_cursor, encode_cursor
from tessera.api.security import principal_auth
from tessera.audit.actors import actor_from_request
from tessera.audit.export import event_as_dict, export_csv, export_jsonl
from tessera.audit.models import AuditEventType
from tessera.audit.selectors import (
    audit_chain_verify,
    audit_filters_validate,
    audit_iter,
    audit_page,
)
from tessera.audit.services import audit_record, chain_key
from tessera.errors import ValidationFailed, field_error

router = Router(tags=["audit"], auth=principal_auth)


def _filters(q: AuditQuery):
    return audit_filters_validate(**q.dict())


@router.get("", response=AuditPage, summary="The tenant's audit events, newest first")
@requires("audit_log:read")
def list_events(request, q: Query[AuditQuery], limit: int = 50, cursor: str | None = None):
    filters = _filters(q)
    position = decode_cursor(cursor)
    before = None
    if position is not None:
        before = position.get("seq")
        if not isinstance(before, int):
            raise ValidationFailed("Invalid cursor", errors=[field_error("cursor", "Bad cursor.")])
    rows, last = audit_page(
        tenant=request.tenant, filters=filters, before_seq=before, limit=clamp_limit(limit)
    )
    return {
        "items": [event_as_dict(e) for e in rows],
        "next_cursor": encode_cursor({"seq": last}) if last is not None else None,
    }


@router.get("/export", summary="Stream the audit events as CSV or JSON Lines")
@requires("audit_log:export")
def export_events(request, q: Query[AuditQuery], format: Literal["csv", "jsonl"] = "jsonl"):
    filters = _filters(q)
    audit_record(
        type=AuditEventType.DATA_EXPORTED,
        actor=actor_from_request(request),
        tenant_id=request.tenant.pk,
        resource_type="audit_log",
        changes={"format": format, "filters": {k: str(v) for k, v in q.dict().items() if v}},
    )
    events = audit_iter(tenant=request.tenant, filters=filters)
    if format == "csv":
        response = StreamingHttpResponse(export_csv(events), content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="audit-events.csv"'
    else:
        response = StreamingHttpResponse(export_jsonl(events), content_type="application/jsonl")
        response["Content-Disposition"] = 'attachment; filename="audit-events.jsonl"'
    return response


@router.post("/verify", response=VerifyOut, summary="Verify the tenant's hash chain")
@requires("audit_log:read")
def verify(request):
    report = audit_chain_verify(key=chain_key(request.tenant.pk))
    return {
        "valid": report.valid,
        "checked": report.checked,
        "first_broken": report.first_broken,
        "reason": report.reason,
    }
