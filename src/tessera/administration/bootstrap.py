"""Idempotent bootstrap: a platform administrator, a tenant, and the admin's membership."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from tessera.access.services.assignments import role_assign_system
from tessera.identity.emails import normalize_email
from tessera.identity.models import User
from tessera.tenancy.models import Membership, Tenant
from tessera.tenancy.services import membership_create, tenant_create


@dataclass(frozen=True)
class BootstrapResult:
    tenant: Tenant
    user: User
    membership: Membership
    created_tenant: bool
    created_user: bool
    created_membership: bool


def bootstrap(
    *, tenant_slug: str, tenant_name: str | None, admin_email: str, admin_password: str | None
) -> BootstrapResult:
    """Create what is missing; change nothing that exists (except: a given password is set)."""
    email = normalize_email(admin_email)
    with transaction.atomic():
        tenant = Tenant.objects.filter(slug=tenant_slug.lower()).first()
        created_tenant = tenant is None
        if tenant is None:
            tenant = tenant_create(slug=tenant_slug, name=tenant_name or tenant_slug)
        user = User.objects.filter(email=email).first()
        created_user = user is None
        if user is None:
            user = User.objects.create_user(email, admin_password, is_platform_admin=True)
        else:
            changed = []
            if not user.is_platform_admin:
                user.is_platform_admin = True
                changed.append("is_platform_admin")
            if admin_password and not user.check_password(admin_password):
                user.set_password(admin_password)
                changed.append("password")
            if changed:
                user.save()
        membership = Membership.objects.filter(user=user, tenant=tenant).first()
        created_membership = membership is None
        if membership is None:
            membership = membership_create(tenant=tenant, user=user)

        role_assign_system(membership=membership, slug="admin")
    return BootstrapResult(
        tenant, user, membership, created_tenant, created_user, created_membership
    )
