"""Role assignments: give and take roles, with the guard rails."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from tessera.access.escalation import NotHeld as NotHeld
from tessera.access.escalation import TargetOutranks as TargetOutranks
from tessera.access.escalation import (
    ensure_actor_holds,
    ensure_change_within,
    ensure_target_within,
    held_rules,
)
from tessera.access.models import (
    Delegation,
    DelegationStatus,
    Role,
    RoleAssignment,
)
from tessera.access.selectors import role_effective_rules
from tessera.access.services.admins import ensure_not_last_admin
from tessera.access.services.delegations import _delegation_end
from tessera.access.services.roles import RoleFull
from tessera.access.services.validation import ADMIN_ROLE, _future, _same_tenant
from tessera.audit.models import AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.engine import MatchedRule
from tessera.errors import NotFound
from tessera.expiry import active_at
from tessera.tenancy.models import Membership
from tessera.tenancy.services import membership_version_bump


def role_assign_system(*, membership: Membership, slug: str) -> RoleAssignment:
    """Give a member one of the tenant's roles without the guard rails (bootstrap, CLI)."""
    role = Role.objects.get(tenant_id=membership.tenant_id, slug=slug)
    with transaction.atomic():
        assignment, created = RoleAssignment.objects.get_or_create(membership=membership, role=role)
        if created:
            membership_version_bump(membership_id=membership.pk)
    return assignment


def role_assign(
    *,
    membership: Membership,
    role: Role,
    expires_at: datetime | None = None,
    granted_by: Membership | None = None,
    actor: Actor | None = None,
) -> RoleAssignment:
    """Give `membership` the role (optionally until `expires_at`).

    `max_members` holds under concurrent assignment: the role row is locked while counting.
    With `granted_by`, that member must hold everything the role allows for as long as it is
    given (403 `not_held`), and, when assigning to someone else, hold at least what that member
    already holds (403 `target_outranks_you`). Assigning a role already held only updates its
    expiry.
    """
    now = timezone.now()
    _same_tenant(membership.tenant_id, role, granted_by)
    _future(expires_at, "expires_at", now)
    if granted_by is not None:
        held = held_rules(granted_by, now=now)
        ensure_actor_holds(
            granted_by, role_effective_rules(role), until=expires_at, now=now, held=held
        )
        ensure_target_within(granted_by, membership, now=now, held=held)
        held_until = list(
            RoleAssignment.objects.filter(membership=membership, role=role)
            .filter(active_at(now))
            .values_list("expires_at", flat=True)
        )
        if held_until and _ends_sooner(expires_at, held_until[0]):
            # the role ends sooner than it did: once it ends, the member holds what they hold
            # without it — a role may carry denies, so that must lie within the giver's too
            ensure_change_within(granted_by, membership, drop=_assignment_of(role.slug))
    with transaction.atomic():
        locked = Role.objects.select_for_update().get(pk=role.pk)
        existing = RoleAssignment.objects.filter(membership=membership, role=locked).first()
        if existing is not None:
            if existing.expires_at == expires_at:
                return existing
            if existing.expires_at is not None and existing.expires_at <= now:
                existing.delete()  # an expired assignment counts as a new one
                existing = None
        if existing is None and locked.max_members is not None:
            holders = RoleAssignment.objects.filter(role=locked).filter(active_at(now)).count()
            if holders >= locked.max_members:
                raise RoleFull(
                    f"The role {locked.slug!r} already has its maximum of "
                    f"{locked.max_members} member(s)"
                )
        if existing is None:
            assignment = RoleAssignment.objects.create(
                membership=membership, role=locked, granted_by=granted_by, expires_at=expires_at
            )
        else:
            assignment = existing
            assignment.expires_at = expires_at
            assignment.save(update_fields=["expires_at"])
        membership_version_bump(membership_id=membership.pk)
        audit_record(
            type=AuditEventType.ROLE_ASSIGNED,
            actor=actor,
            tenant_id=membership.tenant_id,
            resource_type="membership",
            resource_id=membership.pk,
            changes={
                "role": locked.slug,
                "user_id": str(membership.user_id),
                "expires_at": expires_at.isoformat() if expires_at else None,
            },
        )
    return assignment


def role_unassign(
    *,
    membership: Membership,
    role: Role,
    by: Membership | None = None,
    actor: Actor | None = None,
) -> None:
    """Take the role away (404 when not held). The last active admin keeps `admin` (409).
    The member's active delegations of this role end with it. With `by`, that member must hold
    what the role allows and what the member holds (403, as `role_assign`), and what the member
    holds without the role (a role may carry denies: giving one up, even one's own, must not
    widen anyone beyond `by`)."""
    _same_tenant(membership.tenant_id, role, by)
    if by is not None:
        ensure_actor_holds(by, role_effective_rules(role))
        ensure_target_within(by, membership)
        ensure_change_within(by, membership, drop=_assignment_of(role.slug))
    with transaction.atomic():
        locked = Role.objects.select_for_update().get(pk=role.pk)
        assignment = RoleAssignment.objects.filter(membership=membership, role=locked).first()
        if assignment is None:
            raise NotFound(f"The member does not hold {role.slug!r}")
        if locked.slug == ADMIN_ROLE and locked.is_system:
            ensure_not_last_admin(membership=membership)
        assignment.delete()
        membership_version_bump(membership_id=membership.pk)
        audit_record(
            type=AuditEventType.ROLE_REMOVED,
            actor=actor,
            tenant_id=membership.tenant_id,
            resource_type="membership",
            resource_id=membership.pk,
            changes={"role": locked.slug, "user_id": str(membership.user_id)},
        )
        for delegation in Delegation.objects.filter(
            delegator=membership,
            role=locked,
            status__in=[DelegationStatus.ACTIVE, DelegationStatus.PENDING],
        ):
            _delegation_end(delegation, actor=actor, reason="delegator lost the role")


def _assignment_of(slug: str) -> Callable[[MatchedRule], bool]:
    """The member's rules that come from holding the role `slug` directly."""
    return lambda rule: (
        rule.source.kind == "role"
        and rule.source.via == "assignment"
        and rule.source.path[:1] == (slug,)
    )


def _ends_sooner(new: datetime | None, old: datetime | None) -> bool:
    """Whether expiry `new` ends a held role sooner than `old` does (None: never ends)."""
    return new is not None and (old is None or new < old)
