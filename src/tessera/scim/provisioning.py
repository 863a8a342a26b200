"""What provisioning does to an identity and a membership beyond the member services: suspending
and resuming as the directory says (an invitation stays an invitation), an identity's address
changed by the tenant that manages it, and identities in the tenant's verified domains."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from tessera.administration.members import member_deactivate, member_reactivate
from tessera.audit.models import AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.directory.selectors import domain_for_email
from tessera.identity.models import User
from tessera.scim.errors import ScimMutability, ScimUniqueness
from tessera.scim.models import ScimUser
from tessera.tenancy.invitations import invitation_issue, invitation_revoke
from tessera.tenancy.models import Invitation, Membership, MembershipStatus, Tenant
from tessera.tenancy.services import membership_set_status


def username_change(*, membership: Membership, email: str, actor: Actor) -> None:
    """A new userName: the identity's email, when the identity is this tenant's to manage (it
    created it and the person has not proved the address); a person's own address is theirs."""
    user = membership.user
    if user.managed_by_tenant_id != membership.tenant_id or user.is_platform_admin:
        raise ScimMutability(
            "userName is the person's own email address: it changes only through them"
        )
    if User.objects.filter(email=email).exclude(pk=user.pk).exists():
        raise ScimUniqueness(f"{email} is already someone's address")
    before = user.email
    try:
        with transaction.atomic():
            User.objects.filter(pk=user.pk).update(email=email, updated_at=timezone.now())
    except IntegrityError:
        raise ScimUniqueness(f"{email} is already someone's address") from None
    user.email = email
    audit_record(
        type=AuditEventType.PROFILE_UPDATE,
        actor=actor,
        tenant_id=membership.tenant_id,
        resource_type="user",
        resource_id=user.pk,
        changes={"before": {"email": before}, "after": {"email": email}},
    )


def membership_suspend(membership: Membership, *, actor: Actor) -> None:
    if membership.status == MembershipStatus.SUSPENDED:
        return
    if membership.status == MembershipStatus.INVITED:
        # nothing to revoke but the invitation; the membership stays, suspended, so that the
        # directory still finds it (consent stays pending: reactivating invites again)
        membership_set_status(membership=membership, status=MembershipStatus.SUSPENDED)
        for invitation in Invitation.objects.filter(
            membership=membership, accepted_at__isnull=True, revoked_at__isnull=True
        ):
            invitation_revoke(invitation=invitation, actor=actor)
        audit_record(
            type=AuditEventType.USER_DEACTIVATED,
            actor=actor,
            tenant_id=membership.tenant_id,
            resource_type="user",
            resource_id=membership.user_id,
            changes={"before": {"status": "invited"}, "after": {"status": "suspended"}},
        )
        return
    member_deactivate(membership=membership, by=None, actor=actor)


def membership_resume(membership: Membership, *, actor: Actor) -> None:
    if membership.status != MembershipStatus.SUSPENDED:
        return
    row = ScimUser.objects.filter(membership=membership).first()
    accepted = Invitation.objects.filter(membership=membership, accepted_at__isnull=False)
    if row is not None and row.consent_pending and not accepted.exists():
        # the person never accepted: back to an invitation, never straight to active
        membership_set_status(membership=membership, status=MembershipStatus.INVITED)
        invitation_issue(membership=membership, by=None, actor=actor)
        audit_record(
            type=AuditEventType.USER_REACTIVATED,
            actor=actor,
            tenant_id=membership.tenant_id,
            resource_type="user",
            resource_id=membership.user_id,
            changes={"before": {"status": "suspended"}, "after": {"status": "invited"}},
        )
        return
    member_reactivate(membership=membership, by=None, actor=actor)


def in_verified_domain(tenant: Tenant, email: str) -> bool:
    domain = domain_for_email(email)
    return domain is not None and domain.tenant_id == tenant.pk


def identity_manage(*, membership: Membership, actor: Actor) -> None:
    """An existing identity provisioned in one of the tenant's verified domains: its membership
    is active at once (the domain's owner vouches), and an identity whose address nobody has
    proved becomes the tenant's to manage. A person who proved the address keeps their profile."""
    user = membership.user
    tenant_id = membership.tenant_id
    if user.email_verified_at is not None or user.is_platform_admin:
        return
    if user.managed_by_tenant_id == tenant_id:
        return
    before = str(user.managed_by_tenant_id) if user.managed_by_tenant_id else None
    User.objects.filter(pk=user.pk).update(managed_by_tenant_id=tenant_id)
    user.managed_by_tenant_id = tenant_id
    audit_record(
        type=AuditEventType.PROFILE_UPDATE,
        actor=actor,
        tenant_id=tenant_id,
        resource_type="user",
        resource_id=user.pk,
        changes={"before": {"managed_by": before}, "after": {"managed_by": str(tenant_id)}},
    )
