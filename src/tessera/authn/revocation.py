"""Revoking every credential of a member (or of a whole tenant) at once.

Deactivating a member, removing them, or deactivating a tenant must stop the very next request of
every credential bound to it, in every process: each revoker below marks its rows revoked in the
caller's transaction and drops the cached access state (`tessera.authn.session_state`), and the
membership version is bumped so compiled policies are rebuilt.

Extension point: a credential kind is one function `(target, now, reason) -> int` (how many it
revoked) listed in `REVOKERS`: sessions (with their refresh tokens) and API keys. A process that
cached an API key's row re-reads it once the membership or tenant version moves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from tessera.audit.models import AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.authn.api_keys import api_keys_revoke_for
from tessera.authn.devices import devices_revoke_for_user
from tessera.authn.models import Session
from tessera.authn.sessions import session_end_by_id, sessions_revoke_for_user
from tessera.tenancy.models import Membership, Tenant
from tessera.tenancy.services import membership_version_bump, tenant_policy_bump


@dataclass(frozen=True, slots=True)
class RevocationTarget:
    """Whose credentials: one membership, or (membership_id None) a whole tenant."""

    tenant_id: Any
    membership_id: Any = None
    user_id: Any = None


def _revoke_sessions(target: RevocationTarget, now: datetime, reason: str) -> int:
    """Live sessions in the tenant (of the member, when one is named), and their refresh tokens."""
    sessions = Session.objects.filter(tenant_id=target.tenant_id, revoked_at__isnull=True)
    if target.membership_id is not None:
        sessions = sessions.filter(membership_id=target.membership_id)
    ids = list(sessions.select_for_update().values_list("pk", flat=True))
    return sum(
        session_end_by_id(session_id, target.tenant_id, now=now, reason=reason)
        for session_id in ids
    )


def _revoke_api_keys(target: RevocationTarget, now: datetime, reason: str) -> int:
    """Live API keys of the member (or of the whole tenant)."""

    return api_keys_revoke_for(
        tenant_id=target.tenant_id, membership_id=target.membership_id, now=now, reason=reason
    )


Revoker = Callable[[RevocationTarget, datetime, str], int]

# One entry per credential kind: (name used in the audit event, revoker).
REVOKERS: tuple[tuple[str, Revoker], ...] = (
    ("sessions", _revoke_sessions),
    ("api_keys", _revoke_api_keys),
)


def _revoke(*, target: RevocationTarget, reason: str, actor: Actor | None) -> dict[str, int]:
    now = timezone.now()
    with transaction.atomic():
        counts = {name: revoke(target, now, reason) for name, revoke in REVOKERS}
        if any(counts.values()):
            audit_record(
                type=AuditEventType.SESSION_REVOKED,
                actor=actor,
                tenant_id=target.tenant_id,
                resource_type="membership" if target.membership_id else "tenant",
                resource_id=target.membership_id or target.tenant_id,
                changes={"reason": reason, **counts},
            )
    return counts


def credentials_revoke_for_membership(
    *, membership: Membership, reason: str, actor: Actor | None = None
) -> dict[str, int]:
    """Revoke the member's sessions, refresh tokens (and API keys) in this tenant; bump its version.

    Returns how many credentials of each kind were revoked. Call inside the changing transaction.
    """

    target = RevocationTarget(
        tenant_id=membership.tenant_id, membership_id=membership.pk, user_id=membership.user_id
    )
    with transaction.atomic():
        counts = _revoke(target=target, reason=reason, actor=actor)
        membership_version_bump(membership_id=membership.pk)
    return counts


def credentials_revoke_for_tenant(
    *, tenant: Tenant, reason: str, actor: Actor | None = None
) -> dict[str, int]:
    """Revoke every live credential bound to the tenant and invalidate its compiled policies."""

    target = RevocationTarget(tenant_id=tenant.pk)
    with transaction.atomic():
        counts = _revoke(target=target, reason=reason, actor=actor)
        tenant_policy_bump(tenant_id=tenant.pk)
    return counts


def credentials_revoke_for_user(*, user, reason: str, actor: Actor | None = None) -> dict[str, int]:
    """End every credential of the person, in every tenant and outside any: sessions with their
    refresh tokens, API keys of each membership, trusted devices. Call inside the changing
    transaction (accepting an invitation for an identity that was never verified)."""

    counts = {"sessions": 0, "api_keys": 0}
    with transaction.atomic():
        for membership in Membership.objects.filter(user_id=user.pk):
            for name, count in credentials_revoke_for_membership(
                membership=membership, reason=reason, actor=actor
            ).items():
                counts[name] = counts.get(name, 0) + count
        counts["sessions"] += sessions_revoke_for_user(user=user, reason=reason, actor=actor)
        counts["trusted_devices"] = devices_revoke_for_user(user_id=user.pk)
    return counts
