"""The last-admin guard rail: a tenant never loses its last active administrator."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from tessera.access.escalation import NotHeld as NotHeld
from tessera.access.escalation import TargetOutranks as TargetOutranks
from tessera.access.models import (
    Role,
    RoleAssignment,
)
from tessera.access.services.validation import ADMIN_ROLE
from tessera.errors import Conflict
from tessera.expiry import active_at
from tessera.tenancy.models import Membership, MembershipStatus


class LastAdmin(Conflict):
    code = "last_admin"


def _active_admins(tenant_id, now: datetime):
    holding = RoleAssignment.objects.filter(
        role__tenant_id=tenant_id, role__slug=ADMIN_ROLE, role__is_system=True
    ).filter(active_at(now))
    return Membership.objects.filter(
        tenant_id=tenant_id,
        status=MembershipStatus.ACTIVE,
        user__is_active=True,
        pk__in=holding.values("membership_id"),
    )


def ensure_not_last_admin(*, membership: Membership, now: datetime | None = None) -> None:
    """409 `last_admin` when `membership` is the tenant's only active administrator.

    Call it inside the transaction that removes, suspends or demotes the member: it locks the
    tenant's admin role row, so two concurrent removals of the last two admins cannot both pass.
    """
    now = now or timezone.now()
    with transaction.atomic():
        list(
            Role.objects.select_for_update().filter(
                tenant_id=membership.tenant_id, slug=ADMIN_ROLE, is_system=True
            )
        )
        admins = set(_active_admins(membership.tenant_id, now).values_list("pk", flat=True))
    if membership.pk in admins and len(admins) == 1:
        raise LastAdmin("The tenant's last active administrator cannot be removed or demoted")
