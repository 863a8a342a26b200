"""Authentication's part of a member's privacy requests: sessions, API keys and MFA state for an
export, the ids under which the person appears in audit events, and revoking and deleting their
credentials on erasure (`tessera.privacy`)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils import timezone

from tessera.audit.services import Actor
from tessera.authn.devices import devices_revoke_for_user
from tessera.authn.models import ApiKey, MfaChallenge, PasswordResetToken, Session, TrustedDevice
from tessera.authn.sessions import session_end_by_id, sessions_revoke_for_user
from tessera.identity.mfa import mfa_status
from tessera.identity.models import User
from tessera.tenancy.models import Membership
from tessera.tenancy.privacy import deleted_count, ids_of, iso_or_none


def credentials_export(*, membership: Membership) -> dict[str, Any]:
    """The member's sessions in the tenant, API keys (never a hash) and MFA state, for export."""
    m = membership
    sessions = Session.objects.filter(user_id=m.user_id, tenant_id=m.tenant_id).order_by(
        "created_at", "id"
    )
    keys = ApiKey.objects.filter(membership=m).order_by("created_at", "id")
    mfa = mfa_status(user_id=m.user_id)
    return {
        "sessions": [
            {
                "id": str(s.pk),
                "created_at": iso_or_none(s.created_at),
                "last_activity_at": iso_or_none(s.last_activity_at),
                "expires_at": iso_or_none(s.expires_at),
                "absolute_expires_at": iso_or_none(s.absolute_expires_at),
                "ip": s.ip,
                "user_agent": s.user_agent,
                "device_info": s.device_info or {},
                "auth_method": s.auth_method,
                "mfa_verified_at": iso_or_none(s.mfa_verified_at),
                "risk_score": s.risk_score,
                "revoked_at": iso_or_none(s.revoked_at),
                "revoked_reason": s.revoked_reason,
            }
            for s in sessions
        ],
        "api_keys": [
            {
                "id": str(k.pk),
                "name": k.name,
                "prefix": k.prefix,
                "scopes": list(k.scopes or []),
                "allowed_ips": list(k.allowed_ips or []),
                "created_at": iso_or_none(k.created_at),
                "expires_at": iso_or_none(k.expires_at),
                "last_used_at": iso_or_none(k.last_used_at),
                "last_used_ip": k.last_used_ip,
                "use_count": k.use_count,
                "revoked_at": iso_or_none(k.revoked_at),
            }
            for k in keys
        ],
        "mfa": {
            "enabled": mfa.enabled,
            "confirmed_at": iso_or_none(mfa.confirmed_at),
            "backup_codes_remaining": mfa.backup_codes_remaining,
        },
    }


def credentials_footprint(*, user_id, tenant_id=None) -> dict[str, tuple[str, ...]]:
    """The ids of the person's sessions and API keys (in one tenant, or in every one: None) and
    of their trusted devices (bound to no tenant)."""
    sessions = Session.objects.filter(user_id=user_id)
    keys = ApiKey.objects.filter(membership__user_id=user_id)
    if tenant_id is not None:
        sessions, keys = sessions.filter(tenant_id=tenant_id), keys.filter(tenant_id=tenant_id)
    return {
        "session_ids": ids_of(sessions),
        "api_key_ids": ids_of(keys),
        "device_ids": ids_of(TrustedDevice.objects.filter(user_id=user_id)),
    }


def tenant_sessions_end(*, membership: Membership) -> int:
    """Live sessions of the person in the tenant that are bound to no membership (the
    membership's own were revoked by `credentials_revoke_for_membership`)."""
    m = membership
    now = timezone.now()
    live = Session.objects.filter(user_id=m.user_id, tenant_id=m.tenant_id, revoked_at__isnull=True)
    return sum(
        session_end_by_id(session_id, m.tenant_id, now=now, reason="member_erased")
        for session_id in live.values_list("pk", flat=True)
    )


def identity_credentials_revoke(*, user: User, actor: Actor | None) -> int:
    """Every session and trusted device of the person, at once (before their rows go)."""
    ended = sessions_revoke_for_user(user=user, reason="user_erased", actor=actor)
    devices_revoke_for_user(user_id=user.pk)
    return ended


def credentials_delete_for_membership(*, membership: Membership) -> dict[str, int]:
    """Delete the membership's sessions (and the person's other sessions in its tenant), API keys
    and pending MFA challenges there; call inside the erasing transaction."""
    m = membership
    deleted = {
        "sessions": deleted_count(
            Session.objects.filter(Q(membership=m) | Q(user_id=m.user_id, tenant_id=m.tenant_id))
        ),
        "api_keys": deleted_count(ApiKey.objects.filter(membership=m)),
    }
    MfaChallenge.objects.filter(
        Q(membership=m) | Q(user_id=m.user_id, tenant_id=m.tenant_id)
    ).delete()
    return deleted


def credentials_delete_for_user(*, user_id) -> dict[str, int]:
    """Delete every session, reset token, trusted device and MFA challenge of the person."""
    deleted = {
        "identity_sessions": Session.objects.filter(user_id=user_id).delete()[0],
        "reset_tokens": PasswordResetToken.objects.filter(user_id=user_id).delete()[0],
        "trusted_devices": TrustedDevice.objects.filter(user_id=user_id).delete()[0],
    }
    MfaChallenge.objects.filter(user_id=user_id).delete()
    return deleted
