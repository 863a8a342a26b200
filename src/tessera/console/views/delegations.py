"""Delegations: the list (status filter, keyset pages), approving a pending one, revoking one.

Approval is offered to those allowed `delegation:approve` who are not a party to the delegation
nor its creator and who hold what it lends (the service's four-eyes and escalation rules);
revocation to the delegator and to those allowed `delegation:revoke` or `delegation:approve`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tessera.access.escalation import ensure_actor_holds, held_rules
from tessera.access.models import Delegation, DelegationStatus
from tessera.access.selectors import delegation_get, delegation_list, role_effective_rules
from tessera.access.services.delegations import delegation_approve, delegation_revoke
from tessera.console.pages import Console, console_of, console_page, done, render_page
from tessera.console.paging import newest_first, next_page_query
from tessera.engine import MatchedRule
from tessera.errors import PermissionDenied

STATUSES = (*DelegationStatus.values, "expired")
STATUS_LABELS = {
    "pending": gettext_lazy("pending approval"),
    "active": gettext_lazy("active"),
    "revoked": gettext_lazy("revoked"),
    "rejected": gettext_lazy("rejected"),
    "expired": gettext_lazy("expired"),
}


@dataclass(frozen=True, slots=True)
class DelegationRow:
    delegation: Delegation
    status: str
    label: str
    approve: bool
    revoke: bool


def _status(d: Delegation, now: datetime) -> str:
    if d.status == DelegationStatus.ACTIVE and d.ends_at <= now:
        return "expired"
    return str(d.status)


def _may_approve(console: Console, d: Delegation, held: list[MatchedRule]) -> bool:
    me = console.membership.pk
    if not console.can["delegation_approve"] or me in (
        d.delegator_id,
        d.delegate_id,
        d.created_by_id,
    ):
        return False
    lent = role_effective_rules(d.role) if d.role is not None else list(d.permissions or [])
    try:
        ensure_actor_holds(console.membership, lent, until=d.ends_at, held=held)
    except PermissionDenied:
        return False
    return True


def _row(console: Console, d: Delegation, now: datetime, held: list[MatchedRule]) -> DelegationRow:
    status = _status(d, now)
    open_ = d.status in (DelegationStatus.ACTIVE, DelegationStatus.PENDING) and status != "expired"
    revoker = console.can["delegation_revoke"] or console.can["delegation_approve"]
    return DelegationRow(
        delegation=d,
        status=status,
        label=str(STATUS_LABELS.get(status, status)),
        approve=d.status == DelegationStatus.PENDING
        and d.ends_at > now
        and _may_approve(console, d, held),
        revoke=open_ and (revoker or d.delegator_id == console.membership.pk),
    )


@console_page("delegation:read")
def delegation_index(request: HttpRequest) -> HttpResponse:
    console = console_of(request)
    now = timezone.now()
    chosen = request.GET.get("status") or ""
    qs = delegation_list(tenant=console.tenant).select_related(
        "delegator__user", "delegate__user", "created_by__user", "approved_by__user", "role"
    )
    if chosen == "expired":
        qs = qs.filter(status=DelegationStatus.ACTIVE, ends_at__lte=now)
    elif chosen == DelegationStatus.ACTIVE:
        qs = qs.filter(status=DelegationStatus.ACTIVE, ends_at__gt=now)
    elif chosen in STATUSES:
        qs = qs.filter(status=chosen)
    else:
        chosen = ""
    rows, following = newest_first(qs, request.GET.get("cursor"))
    held = held_rules(console.membership, now=now)
    return render_page(
        request,
        "console/delegations.html",
        {
            "rows": [_row(console, d, now, held) for d in rows],
            "statuses": [(s, STATUS_LABELS.get(s, s)) for s in STATUSES],
            "chosen": chosen,
            "next_query": next_page_query(request, following),
        },
        section="console:delegations",
    )


@require_POST
@console_page("delegation:approve")
def delegation_approve_view(request: HttpRequest, delegation_id: str) -> HttpResponse:
    console = console_of(request)
    delegation = delegation_get(tenant=console.tenant, delegation_id=delegation_id)
    delegation_approve(delegation=delegation, approver=console.membership, actor=console.actor)
    return done(request, _("Delegation approved."), reverse("console:delegations"))


@require_POST
@console_page()
def delegation_revoke_view(request: HttpRequest, delegation_id: str) -> HttpResponse:
    console = console_of(request)
    delegation = delegation_get(tenant=console.tenant, delegation_id=delegation_id)
    may = console.can["delegation_revoke"] or console.can["delegation_approve"]
    if delegation.delegator_id != console.membership.pk and not may:
        raise PermissionDenied(_("Only the delegator or an approver may revoke a delegation."))
    delegation_revoke(delegation=delegation, actor=console.actor)
    return done(request, _("Delegation revoked."), reverse("console:delegations"))
