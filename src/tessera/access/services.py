"""Writes of access data. Every change that affects decisions bumps a version in its transaction."""

from __future__ import annotations

from django.db import transaction

from tessera.access.catalog import BUILTIN_ROLES
from tessera.access.models import Role, RoleAssignment, RoleRule
from tessera.tenancy.models import Membership, Tenant
from tessera.tenancy.services import membership_version_bump


def roles_create_builtin(*, tenant: Tenant) -> list[Role]:
    """The built-in roles (admin, manager, member, viewer) of a new tenant."""
    roles = []
    with transaction.atomic():
        for slug, spec in BUILTIN_ROLES.items():
            role, created = Role.objects.get_or_create(
                tenant=tenant,
                slug=slug,
                defaults={
                    "name": spec["name"],
                    "description": spec["description"],
                    "is_system": True,
                },
            )
            if created:
                RoleRule.objects.bulk_create(
                    RoleRule(role=role, position=i, **rule) for i, rule in enumerate(spec["rules"])
                )
            roles.append(role)
    return roles


def role_assign_system(*, membership: Membership, slug: str) -> RoleAssignment:
    """Give a member one of the tenant's roles without the guard rails (bootstrap, CLI)."""
    role = Role.objects.get(tenant_id=membership.tenant_id, slug=slug)
    with transaction.atomic():
        assignment, created = RoleAssignment.objects.get_or_create(membership=membership, role=role)
        if created:
            membership_version_bump(membership_id=membership.pk)
    return assignment
