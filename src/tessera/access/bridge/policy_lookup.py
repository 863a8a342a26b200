"""Which compiled policy a decision uses: the caller's versions from the request's one round trip,
or the member's current ones; none for a membership that may not act."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from tessera.access.bridge.policy import MemberPolicy, member_policy
from tessera.access.versions import membership_state
from tessera.engine import Decision
from tessera.tenancy.models import Membership

INACTIVE_REASON = "the subject's membership is not active (default deny)"


@dataclass(frozen=True, slots=True)
class Versions:
    ok: bool
    tenant_version: int
    membership_version: int


def caller_versions(request) -> Versions | None:
    """The caller's versions from the request's one round trip (when the principal has them)."""
    principal = getattr(request, "principal", None)
    membership = getattr(request, "membership", None)
    if principal is None or membership is None:
        return None
    if str(getattr(principal, "membership_id", None)) != str(membership.pk):
        return None
    tv = getattr(principal, "tenant_version", 0)
    mv = getattr(principal, "membership_version", 0)
    if not tv or not mv:
        return None
    return Versions(True, tv, mv)


def current_versions(membership: Membership, *, now: datetime | None = None) -> Versions:
    """Whether the membership may act now, and its versions: one round trip (Redis or database)."""
    state = membership_state(
        tenant_id=membership.tenant_id,
        membership_id=membership.pk,
        now=now or timezone.now(),
    )
    return Versions(state.membership_ok, state.tenant_version, state.membership_version)


def policy_for(
    membership: Membership, versions: Versions | None = None, *, now: datetime | None = None
) -> MemberPolicy | None:
    """Compiled policy and subject; None when the membership, its user or its tenant is inactive."""
    if versions is None:
        versions = current_versions(membership, now=now)
    if not versions.ok or not versions.tenant_version or not versions.membership_version:
        return None
    return member_policy(membership, versions.tenant_version, versions.membership_version, now=now)


def _inactive() -> Decision:
    return Decision(False, INACTIVE_REASON, (), (), "")
