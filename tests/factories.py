"""Factories for the objects most tests need."""

from __future__ import annotations

import itertools

from tessera.access.services.assignments import role_assign_system
from tessera.identity.models import User
from tessera.tenancy.models import Membership, Tenant
from tessera.tenancy.services import membership_create, tenant_create

DEFAULT_PASSWORD = "correct horse battery staple"
_seq = itertools.count(1)


def make_tenant(slug: str | None = None, **settings) -> Tenant:
    slug = slug or f"tenant-{next(_seq)}"
    existing = Tenant.objects.filter(slug=slug).first()
    return existing or tenant_create(slug=slug, name=slug.title(), settings=settings or None)


def make_user(email: str | None = None, password: str | None = DEFAULT_PASSWORD, **fields) -> User:
    email = email or f"user{next(_seq)}@example.test"
    return User.objects.create_user(email, password, **fields)


def make_member(
    tenant: Tenant,
    email: str | None = None,
    *,
    roles: list[str] | tuple[str, ...] = ("member",),
    password: str | None = DEFAULT_PASSWORD,
    user: User | None = None,
    **fields,
) -> Membership:
    """`member = make_member(tenant, roles=["viewer"])` — a user with a membership and roles.

    A new user is managed by `tenant` (as if the tenant had created it through the API)."""
    user = user or make_user(email, password, managed_by_tenant=tenant)
    membership = membership_create(tenant=tenant, user=user, **fields)
    for slug in roles:
        role_assign_system(membership=membership, slug=slug)
    return membership
