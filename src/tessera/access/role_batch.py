"""Several role changes of one member as one change: what joiner/mover templates apply.

`role_assignments_apply` keeps the guard rails of `role_assign` and `role_unassign` (a role's
`max_members` counted under its row lock; the tenant's last active administrator keeps `admin`;
delegations the member gave of a removed role end), bumps the membership version once and writes
no audit event of its own: the caller records one event for the whole change. Who decided the
roles is the caller's concern (a template is checked against its author's permissions when it is
saved: tessera.lifecycle).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from tessera.access.models import Delegation, DelegationStatus, Role, RoleAssignment
from tessera.access.services.admins import ensure_not_last_admin
from tessera.access.services.delegations import delegation_revoke
from tessera.access.services.roles import RoleFull
from tessera.access.services.validation import ADMIN_ROLE
from tessera.audit.services import Actor
from tessera.expiry import active_at
from tessera.tenancy.models import Membership
from tessera.tenancy.services import membership_version_bump


def role_assignments_apply(
    *,
    membership: Membership,
    add: Sequence[Role] = (),
    remove: Sequence[Role] = (),
    actor: Actor | None = None,
) -> tuple[list[str], list[str]]:
    """Give `add` and take `remove` (roles not held / already held are skipped); returns the
    slugs (added, removed) that changed. 409 `role_full` / `last_admin` roll everything back."""
    now = timezone.now()
    added: list[str] = []
    removed: list[str] = []
    with transaction.atomic():
        for role in remove:
            if role.tenant_id != membership.tenant_id:
                continue
            assignment = RoleAssignment.objects.filter(membership=membership, role=role).first()
            if assignment is None:
                continue
            if role.slug == ADMIN_ROLE and role.is_system:
                ensure_not_last_admin(membership=membership)
            assignment.delete()
            removed.append(role.slug)
            for delegation in Delegation.objects.filter(
                delegator=membership,
                role=role,
                status__in=[DelegationStatus.ACTIVE, DelegationStatus.PENDING],
            ):
                delegation_revoke(delegation=delegation, actor=actor)
        for role in sorted(add, key=lambda r: str(r.pk)):  # one lock order for concurrent joins
            if role.tenant_id != membership.tenant_id:
                continue
            locked = Role.objects.select_for_update().get(pk=role.pk)
            existing = RoleAssignment.objects.filter(membership=membership, role=locked).first()
            if existing is not None and (existing.expires_at is None or existing.expires_at > now):
                continue
            if existing is not None:
                existing.delete()  # an expired assignment counts as a new one
            if locked.max_members is not None:
                live = active_at(now)
                holders = RoleAssignment.objects.filter(role=locked).filter(live).count()
                if holders >= locked.max_members:
                    raise RoleFull(
                        f"The role {locked.slug!r} already has its maximum of "
                        f"{locked.max_members} member(s)"
                    )
            RoleAssignment.objects.create(membership=membership, role=locked)
            added.append(locked.slug)
        if added or removed:
            membership_version_bump(membership_id=membership.pk)
    return added, removed
