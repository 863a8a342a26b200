"""A tenant administrator's hold on another member's sign-in: their sessions and second factor.

    member_sessions(...)        the member's live sessions in this tenant, newest first
    member_sessions_end(...)    end them all (or one: member_session_end)
    member_mfa_reset(...)       remove their TOTP factor, backup codes and trusted devices (lost
                                device), and end their sessions

Each one acts on another member, so `by` must hold at least what the member holds
(`ensure_target_within`, 403 `target_outranks_you`) — a manager cannot read or end an
administrator's sessions nor strip their second factor. Every write is audited in its
transaction, and an ended session fails on its very next request (`session_end_by_id` drops the
cached state in every process).

The second factor belongs to the person, not to the membership, so resetting it reaches every
tenant the person belongs to. A tenant may therefore reset it only for a person who belongs to no
other tenant (in any status), is not managed by another tenant (decision 0007) and is not a
platform administrator (409 `mfa_managed_elsewhere` otherwise: another tenant, or the person
themselves, decides). Resetting one's own factor goes through
`POST /api/v1/auth/mfa/disable` (password and code), never through here (409
`self_action_forbidden`). The reset ends all the person's sessions and trusted devices: whoever
sits behind them may be the one who took the device.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tessera.access.escalation import ensure_target_within
from tessera.audit.models import AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.authn.devices import devices_revoke_for_user
from tessera.authn.models import Session
from tessera.authn.sessions import session_end_by_id, sessions_revoke_for_user
from tessera.errors import Conflict, NotFound
from tessera.identity.models import BackupCode, TotpFactor
from tessera.tenancy.models import Membership

REVOKED_BY_ADMIN = "revoked_by_admin"
MFA_RESET = "mfa_reset"


class MfaManagedElsewhere(Conflict):
    code = "mfa_managed_elsewhere"


class SelfMfaReset(Conflict):
    code = "self_action_forbidden"


@dataclass(frozen=True, slots=True)
class MfaReset:
    totp_removed: bool
    backup_codes_removed: int
    trusted_devices_revoked: int
    sessions_ended: int


def _live_in_tenant(membership: Membership, now: datetime):
    return Session.objects.filter(
        user_id=membership.user_id,
        tenant_id=membership.tenant_id,
        revoked_at__isnull=True,
        expires_at__gt=now,
        absolute_expires_at__gt=now,
    )


def member_sessions(
    *,
    membership: Membership,
    by: Membership | None,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None = None,
    now: datetime | None = None,
) -> list[Session]:
    """The member's live sessions in this tenant, newest first (keyset after (created_at, id))."""
    now = now or timezone.now()
    ensure_target_within(by, membership, now=now)
    query = _live_in_tenant(membership, now)
    if after is not None:
        created_at, last_id = after
        query = query.filter(
            Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=last_id)
        )
    return list(query.order_by("-created_at", "-id")[:limit])


def _end(sessions: list, *, membership: Membership, actor: Actor | None, now: datetime) -> int:
    ended = [
        str(session_id)
        for session_id in sessions
        if session_end_by_id(session_id, membership.tenant_id, now=now, reason=REVOKED_BY_ADMIN)
    ]
    if ended:
        audit_record(
            type=AuditEventType.SESSION_REVOKED,
            actor=actor,
            tenant_id=membership.tenant_id,
            resource_type="user",
            resource_id=membership.user_id,
            changes={"reason": REVOKED_BY_ADMIN, "sessions": ended},
        )
    return len(ended)


def member_sessions_end(
    *, membership: Membership, by: Membership | None, actor: Actor | None = None
) -> int:
    """End every live session of the member in this tenant; how many ended."""
    now = timezone.now()
    ensure_target_within(by, membership, now=now)
    with transaction.atomic():
        ids = list(
            _live_in_tenant(membership, now).select_for_update().values_list("pk", flat=True)
        )
        return _end(ids, membership=membership, actor=actor, now=now)


def member_session_end(
    *, membership: Membership, session_id: str, by: Membership | None, actor: Actor | None = None
) -> None:
    """End one of the member's sessions in this tenant (404 for any other id, or one ended)."""
    now = timezone.now()
    ensure_target_within(by, membership, now=now)
    try:
        uuid.UUID(str(session_id))
    except ValueError:
        raise NotFound("No such session") from None
    with transaction.atomic():
        found = list(
            _live_in_tenant(membership, now)
            .filter(pk=session_id)
            .select_for_update()
            .values_list("pk", flat=True)
        )
        if not found:
            raise NotFound("No such session")
        _end(found, membership=membership, actor=actor, now=now)


def _managed_here(membership: Membership) -> bool:
    user = membership.user
    if user.is_platform_admin:
        return False
    if user.managed_by_tenant_id not in (None, membership.tenant_id):
        return False  # managed by another tenant (decision 0007)
    return not Membership.objects.filter(user_id=user.pk).exclude(pk=membership.pk).exists()


def member_mfa_reset(
    *, membership: Membership, by: Membership | None, actor: Actor | None = None
) -> MfaReset:
    """Remove the member's second factor (see the module): factor, backup codes, trusted devices
    and sessions, with one MFA_DISABLED event (`reset: true`) in the same transaction."""
    if by is not None and by.user_id == membership.user_id:
        raise SelfMfaReset("Turn off your own second factor with your password and a code")
    now = timezone.now()
    ensure_target_within(by, membership, now=now)
    if not _managed_here(membership):
        raise MfaManagedElsewhere(
            "This person also belongs elsewhere (another tenant or the platform): "
            "their second factor is not this tenant's to reset"
        )
    user = membership.user
    with transaction.atomic():
        removed, _ = TotpFactor.objects.filter(user_id=user.pk).delete()
        codes, _ = BackupCode.objects.filter(user_id=user.pk).delete()
        devices = devices_revoke_for_user(user_id=user.pk, now=now)
        audit_record(
            type=AuditEventType.MFA_DISABLED,
            actor=actor,
            tenant_id=membership.tenant_id,
            resource_type="user",
            resource_id=user.pk,
            changes={
                "reset": True,
                "factor": "totp" if removed else None,
                "backup_codes": codes,
                "trusted_devices": devices,
            },
        )
        sessions = sessions_revoke_for_user(user=user, reason=MFA_RESET, actor=actor)
    return MfaReset(bool(removed), codes, devices, sessions)
