"""Reads of the directory. Every tenant-scoped read takes the tenant explicitly."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.db.models import QuerySet

from tessera.access.models import Role
from tessera.directory.models import Domain, GroupRoleMapping, MappedAssignment
from tessera.errors import NotFound
from tessera.tenancy.models import Membership, Tenant


def email_domain(email: str) -> str:
    """The lower-case domain part of an address ('' when there is none)."""
    _, at, domain = (email or "").strip().rpartition("@")
    return domain.lower().rstrip(".") if at else ""


def domain_for_email(email: str) -> Domain | None:
    """The verified Domain routing this address (exact domain match), or None. At most one
    tenant has verified a given domain."""
    domain = email_domain(email)
    if not domain:
        return None
    return (
        Domain.objects.filter(domain=domain, verified_at__isnull=False, tenant__is_active=True)
        .select_related("tenant")
        .first()
    )


def domain_list(*, tenant: Tenant) -> QuerySet[Domain]:
    return Domain.objects.filter(tenant=tenant).order_by("domain", "id")


def domain_get(*, tenant: Tenant | None, domain_id) -> Domain:
    """One domain of `tenant` (any tenant's when None: platform administration); 404 otherwise."""
    try:
        pk = uuid.UUID(str(domain_id))
    except ValueError:
        raise NotFound("No such domain") from None
    query = Domain.objects.filter(pk=pk)
    if tenant is not None:
        query = query.filter(tenant=tenant)
    found = query.select_related("tenant").first()
    if found is None:
        raise NotFound("No such domain")
    return found


def group_mapping_list(*, tenant: Tenant) -> list[GroupRoleMapping]:
    """The tenant's group → roles mapping, by group name."""
    return list(
        GroupRoleMapping.objects.filter(tenant=tenant).prefetch_related("roles").order_by("group")
    )


def roles_for_groups(*, tenant: Tenant, groups: Iterable[str]) -> QuerySet[Role]:
    """The tenant's roles that these group names map to (exact, case-sensitive names)."""
    names = {g for g in groups if isinstance(g, str)}
    mapping = GroupRoleMapping.objects.filter(tenant=tenant, group__in=names)
    return Role.objects.filter(tenant=tenant, pk__in=mapping.values("roles")).order_by("slug")


def mapped_roles(*, membership: Membership) -> dict[str, list[str]]:
    """{role slug: [sources]} of the roles the member holds through group mapping."""
    rows = MappedAssignment.objects.filter(membership=membership).select_related("role")
    return {row.role.slug: sorted(row.sources) for row in rows}
