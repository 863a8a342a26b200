"""Trusted devices: after an MFA check the user may trust the device; its token (shown once,
stored as SHA-256) then skips the MFA step of later logins for `DEVICE_TTL`, unless revoked or the
tenant forbids trusted devices (`settings.mfa.allow_trusted_devices`).

A device belongs to the person (MFA is global, like the password), not to one tenant. Revoking it
stops the skip; the sessions it already started are sessions like any other (revoke them through
/api/v1/auth/sessions).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tessera.audit.models import AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.authn.models import TrustedDevice
from tessera.crypto import opaque_token_hash, opaque_token_new

DEVICE_TTL = timedelta(days=30)
MAX_DEVICES = 20  # live trusted devices per user; trusting one more forgets the oldest
MAX_TOKEN_LENGTH = 256
ENDED_RETENTION = timedelta(days=7)


def device_trust(
    *, user, actor: Actor | None, mfa_verified_at: datetime, now: datetime | None = None
) -> tuple[str, TrustedDevice]:
    """(raw token to hand out once, the new device)."""
    now = now or timezone.now()
    raw, digest = opaque_token_new()
    device = TrustedDevice.objects.create(
        user_id=user.pk,
        token_hash=digest,
        ip=actor.ip if actor else None,
        user_agent=((actor.user_agent if actor else "") or "")[:512],
        created_at=now,
        mfa_verified_at=mfa_verified_at,
        expires_at=now + DEVICE_TTL,
    )
    live = TrustedDevice.objects.filter(
        user_id=user.pk, revoked_at__isnull=True, expires_at__gt=now
    ).order_by("-created_at", "-id")
    excess = list(live.values_list("pk", flat=True)[MAX_DEVICES:])
    if excess:
        TrustedDevice.objects.filter(pk__in=excess).update(revoked_at=now)
    return raw, device


def device_for_login(*, user, raw: str | None, now: datetime | None = None) -> TrustedDevice | None:
    """The user's live trusted device behind this token, marked used now; None otherwise."""
    if not raw or not isinstance(raw, str) or len(raw) > MAX_TOKEN_LENGTH:
        return None
    now = now or timezone.now()
    device = TrustedDevice.objects.filter(
        token_hash=opaque_token_hash(raw),
        user_id=user.pk,
        revoked_at__isnull=True,
        expires_at__gt=now,
    ).first()
    if device is not None:
        TrustedDevice.objects.filter(pk=device.pk).update(last_used_at=now)
    return device


def devices_live_for_user(*, user_id, now: datetime | None = None) -> list[TrustedDevice]:
    now = now or timezone.now()
    return list(
        TrustedDevice.objects.filter(
            user_id=user_id, revoked_at__isnull=True, expires_at__gt=now
        ).order_by("-created_at", "-id")[:200]
    )


def device_get_for_user(*, user_id, device_id) -> TrustedDevice | None:
    try:
        uuid.UUID(str(device_id))
    except ValueError:
        return None
    return TrustedDevice.objects.filter(
        pk=device_id, user_id=user_id, revoked_at__isnull=True
    ).first()


def device_revoke(
    *, device: TrustedDevice, actor: Actor | None = None, tenant_id=None, reason: str = "revoked"
) -> bool:
    """Stop trusting the device; False when it already was revoked."""
    now = timezone.now()
    with transaction.atomic():
        revoked = TrustedDevice.objects.filter(pk=device.pk, revoked_at__isnull=True).update(
            revoked_at=now
        )
        if revoked:
            audit_record(
                type=AuditEventType.SESSION_REVOKED,
                actor=actor,
                tenant_id=tenant_id,
                resource_type="trusted_device",
                resource_id=device.pk,
                changes={"reason": reason, "user_id": str(device.user_id)},
            )
    return bool(revoked)


def devices_revoke_for_user(*, user_id, now: datetime | None = None) -> int:
    """Revoke every trusted device of the user (MFA disabled); the caller audits."""
    now = now or timezone.now()
    return TrustedDevice.objects.filter(user_id=user_id, revoked_at__isnull=True).update(
        revoked_at=now
    )


def devices_cleanup(*, now: datetime | None = None) -> int:
    """Delete devices that expired or were revoked a week ago (tessera cleanup)."""

    cutoff = (now or timezone.now()) - ENDED_RETENTION
    deleted, _ = TrustedDevice.objects.filter(
        Q(expires_at__lt=cutoff) | Q(revoked_at__lt=cutoff)
    ).delete()
    return deleted
