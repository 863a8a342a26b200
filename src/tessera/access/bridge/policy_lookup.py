"""Which compiled policy a decision uses: the caller's versions from the request's one round trip,
or the member's current ones; none for a membership that may not act."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from tessera.access.bridge.policy import MemberPolicy, member_policy
from tessera.access.versions import membership_state, membership_states
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


def policies_for(
    wanted: Iterable[tuple[Membership, Versions | None, datetime]],
) -> dict[Any, MemberPolicy | None]:
    """`policy_for` of several memberships (membership, its versions or None, now), by membership
    pk: the versions not given are read in one round trip per tenant; each policy is looked up
    (compiled at most) once. The first `now` given for a membership is the one used."""
    first: dict[Any, tuple[Membership, Versions | None, datetime]] = {}
    for membership, versions, now in wanted:
        first.setdefault(membership.pk, (membership, versions, now))
    unknown: dict[Any, list[Membership]] = {}
    for membership, versions, _ in first.values():
        if versions is None:
            unknown.setdefault(membership.tenant_id, []).append(membership)
    read: dict[str, Versions] = {}
    for tenant_id, memberships in unknown.items():
        states = membership_states(
            tenant_id=tenant_id,
            membership_ids=[m.pk for m in memberships],
            now=first[memberships[0].pk][2],
        )
        for pk, state in states.items():
            read[pk] = Versions(state.membership_ok, state.tenant_version, state.membership_version)
    return {
        pk: policy_for(membership, versions or read[str(pk)], now=now)
        for pk, (membership, versions, now) in first.items()
    }


def _inactive() -> Decision:
    return Decision(False, INACTIVE_REASON, (), (), "")
