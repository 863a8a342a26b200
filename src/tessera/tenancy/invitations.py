"""Invitations: a tenant asks a person to join; the membership grants nothing until accepted.

    member_create (tessera.administration.members)
      identity new, or managed by this tenant ─→ membership `active`
        └─ new and without a password ─────────→ + an invitation to choose the password
      any other identity ──────────────────────→ membership `invited` + an invitation
    invitation_resend ─→ a new token (the old one dies), the expiry starts again
    invitation_revoke ─→ the token dies; an `invited` membership is removed with it
    accepting: tessera.administration.invitation_accept

A token (256 bits, shown once in the mail) is stored as its SHA-256 only. An invitation lives
`settings.invitations.ttl_days` (default 7) of its tenant. At most one pending invitation per
membership (a conditional unique constraint): a resend replaces the token in place.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from tessera.audit.models import AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.crypto import opaque_token_new
from tessera.errors import NotFound
from tessera.identity.mailer import mail_queue, page_link
from tessera.tenancy.models import Invitation, Membership, MembershipStatus, Tenant
from tessera.tenancy.services import tenant_policy_bump


def invitation_ttl(tenant: Tenant) -> timedelta:
    return timedelta(days=tenant.policy.invitations.ttl_days)


def _inviter_name(by: Membership | None) -> str:
    if by is None:
        return ""
    user = by.user
    return user.full_name or user.email


def _mail(invitation: Invitation, raw: str, *, by: Membership | None) -> None:
    user = invitation.membership.user if invitation.membership is not None else None
    mail_queue(
        "invitation",
        to=invitation.email,
        context={
            "tenant_name": invitation.tenant.name,
            "inviter": _inviter_name(by),
            "expires_at": invitation.expires_at,
            "set_password": user is not None and user.email_verified_at is None,
        },
        link=page_link("invitation", raw),
    )


def invitation_issue(
    *, membership: Membership, by: Membership | None, actor: Actor | None
) -> Invitation:
    """A new pending invitation to `membership`, mailed after commit; INVITATION_CREATED.

    Call inside the transaction that created the membership."""

    now = timezone.now()
    raw, digest = opaque_token_new()
    tenant = membership.tenant
    with transaction.atomic():
        invitation = Invitation.objects.create(
            tenant=tenant,
            membership=membership,
            email=membership.user.email,
            token_hash=digest,
            created_by=by,
            created_at=now,
            sent_at=now,
            expires_at=now + invitation_ttl(tenant),
        )
        audit_record(
            type=AuditEventType.INVITATION_CREATED,
            actor=actor,
            tenant_id=tenant.pk,
            resource_type="invitation",
            resource_id=invitation.pk,
            changes={
                "email": invitation.email,
                "user_id": str(membership.user_id),
                "membership_status": membership.status,
                "expires_at": invitation.expires_at.isoformat(),
            },
        )
        _mail(invitation, raw, by=by)
    return invitation


# --- reads --------------------------------------------------------------------------------------


def invitations_pending(*, tenant: Tenant) -> QuerySet[Invitation]:
    """The tenant's pending invitations (expired ones included, until resent or revoked)."""
    return Invitation.objects.filter(
        tenant=tenant,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        membership__isnull=False,
    ).select_related("membership", "created_by__user")


def invitation_get(*, tenant: Tenant, invitation_id) -> Invitation | None:
    """A pending invitation of the tenant; None for another tenant's, a settled or unknown id."""

    try:
        uuid.UUID(str(invitation_id))
    except ValueError:
        return None
    return invitations_pending(tenant=tenant).filter(pk=invitation_id).first()


def invitation_as_dict(invitation: Invitation, *, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    membership = invitation.membership
    creator = invitation.created_by
    return {
        "id": str(invitation.pk),
        "email": invitation.email,
        "user_id": str(membership.user_id) if membership else None,
        "membership_status": membership.status if membership else None,
        "created_at": invitation.created_at,
        "created_by": str(creator.user_id) if creator else None,
        "sent_at": invitation.sent_at,
        "send_count": invitation.send_count,
        "expires_at": invitation.expires_at,
        "expired": invitation.expires_at <= now,
    }


# --- writes -------------------------------------------------------------------------------------


def invitation_resend(
    *, invitation: Invitation, by: Membership | None, actor: Actor | None
) -> Invitation:
    """A new token and a new expiry for a pending invitation (the old link stops working)."""

    now = timezone.now()
    raw, digest = opaque_token_new()
    with transaction.atomic():
        locked = (
            Invitation.objects.select_for_update()
            .filter(pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True)
            .first()
        )
        if locked is None:
            raise NotFound("No such pending invitation")
        expires = now + invitation_ttl(invitation.tenant)
        Invitation.objects.filter(pk=invitation.pk).update(
            token_hash=digest, sent_at=now, expires_at=expires, send_count=locked.send_count + 1
        )
        invitation.token_hash, invitation.sent_at, invitation.expires_at = digest, now, expires
        invitation.send_count = locked.send_count + 1
        audit_record(
            type=AuditEventType.INVITATION_RESENT,
            actor=actor,
            tenant_id=invitation.tenant_id,
            resource_type="invitation",
            resource_id=invitation.pk,
            changes={"email": invitation.email, "expires_at": expires.isoformat()},
        )
        _mail(invitation, raw, by=by)
    return invitation


def invitation_revoke(*, invitation: Invitation, actor: Actor | None) -> None:
    """Kill the invitation; an `invited` membership (which never granted anything) goes too."""

    now = timezone.now()
    with transaction.atomic():
        revoked = Invitation.objects.filter(
            pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
        if not revoked:
            raise NotFound("No such pending invitation")
        membership_removed = False
        membership = invitation.membership
        if membership is not None:
            membership.refresh_from_db(fields=["status"])
            if membership.status == MembershipStatus.INVITED:
                membership.delete()
                tenant_policy_bump(tenant_id=invitation.tenant_id)
                membership_removed = True
        audit_record(
            type=AuditEventType.INVITATION_REVOKED,
            actor=actor,
            tenant_id=invitation.tenant_id,
            resource_type="invitation",
            resource_id=invitation.pk,
            changes={"email": invitation.email, "membership_removed": membership_removed},
        )
