"""Reads of single sign-on data. Tenant-scoped reads take the tenant explicitly."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db.models import QuerySet

from tessera.directory.selectors import domain_for_email
from tessera.errors import NotFound
from tessera.sso.models import IdentityProvider
from tessera.tenancy.models import Tenant


def provider_list(*, tenant: Tenant) -> QuerySet[IdentityProvider]:
    return IdentityProvider.objects.filter(tenant=tenant).order_by("created_at", "id")


def provider_get(*, tenant: Tenant, provider_id) -> IdentityProvider:
    """One provider of the tenant; 404 otherwise (another tenant's too)."""
    try:
        pk = uuid.UUID(str(provider_id))
    except ValueError:
        raise NotFound("No such identity provider") from None
    found = IdentityProvider.objects.filter(tenant=tenant, pk=pk).first()
    if found is None:
        raise NotFound("No such identity provider")
    return found


def provider_for_sign_in(*, provider_id) -> IdentityProvider:
    """An enabled provider of an active tenant; 404 for anything else (disabled as unknown)."""
    try:
        pk = uuid.UUID(str(provider_id))
    except ValueError:
        raise NotFound("No such identity provider") from None
    found = (
        IdentityProvider.objects.filter(pk=pk, enabled=True, tenant__is_active=True)
        .select_related("tenant")
        .first()
    )
    if found is None:
        raise NotFound("No such identity provider")
    return found


def provider_for_email(email: str) -> IdentityProvider | None:
    """Home-realm discovery: the first enabled provider of the tenant that verified the
    address's domain, or None."""
    domain = domain_for_email(email)
    if domain is None:
        return None
    return (
        IdentityProvider.objects.filter(tenant_id=domain.tenant_id, enabled=True)
        .order_by("created_at", "id")
        .first()
    )


def start_url(provider: IdentityProvider) -> str:
    return f"{settings.PUBLIC_URL}/api/v1/auth/sso/{provider.pk}/start"


def callback_url() -> str:
    """The one redirect URI registered at every provider."""
    return f"{settings.PUBLIC_URL}/api/v1/auth/sso/callback"
