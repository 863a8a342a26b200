"""/api/v1/tenants: platform administrators list, create, read, update and deactivate tenants."""

from __future__ import annotations

from ninja import Router, Status

from tessera.administration.tenants import (
    tenant_create_with_admin,
    tenant_deactivate,
    tenant_update,
)
from tessera.api.pagination import clamp_limit, decode_key_cursor, encode_cursor
from tessera.api.security import principal_auth
from tessera.api.tenants.inputs import TenantIn, TenantPatch
from tessera.api.tenants.outputs import TenantCreatedOut, TenantOut, TenantPage, tenant_as_dict
from tessera.audit.actors import actor_from_request
from tessera.errors import NotAuthenticated, PermissionDenied
from tessera.tenancy.models import Tenant
from tessera.tenancy.selectors import tenant_get, tenants_page

router = Router(tags=["tenants"], auth=principal_auth)


class PlatformAdminRequired(PermissionDenied):
    code = "platform_admin_required"


def _platform_admin(request) -> None:
    principal = getattr(request, "principal", None)
    if principal is None:
        raise NotAuthenticated("Authentication required")
    user = principal.user
    if not (user.is_active and user.is_platform_admin) or principal.scopes is not None:
        raise PlatformAdminRequired("Only platform administrators manage tenants")


def _tenant(tenant_id: str) -> Tenant:
    return tenant_get(tenant_id=tenant_id)


@router.get("", response=TenantPage, summary="All tenants (platform administrators)")
def list_tenants(request, limit: int = 50, cursor: str | None = None, q: str | None = None):
    _platform_admin(request)
    limit = clamp_limit(limit)
    after = decode_key_cursor(cursor, "slug")
    rows = tenants_page(q=q, after_slug=after, limit=limit)
    following = encode_cursor({"slug": rows[limit - 1].slug}) if len(rows) > limit else None
    return {"items": [tenant_as_dict(t) for t in rows[:limit]], "next_cursor": following}


@router.post("", response={201: TenantCreatedOut}, summary="Create a tenant (and its first admin)")
def create_tenant(request, payload: TenantIn):
    _platform_admin(request)
    tenant, created = tenant_create_with_admin(
        slug=payload.slug,
        name=payload.name,
        admin_email=payload.admin_email,
        actor=actor_from_request(request),
    )
    body = tenant_as_dict(tenant)
    if created is not None:
        body["admin"] = {
            "id": str(created.membership.user_id),
            "email": created.membership.user.email,
            "identity_created": created.user_created,
            "invited": created.invited,
        }
    return Status(201, body)


@router.get("/{tenant_id}", response=TenantOut, summary="One tenant")
def get_tenant(request, tenant_id: str):
    _platform_admin(request)
    return tenant_as_dict(_tenant(tenant_id))


@router.patch("/{tenant_id}", response=TenantOut, summary="Rename, reconfigure or (de)activate")
def update_tenant(request, tenant_id: str, payload: TenantPatch):
    _platform_admin(request)
    tenant = _tenant(tenant_id)
    tenant_update(
        tenant=tenant, changes=payload.dict(exclude_unset=True), actor=actor_from_request(request)
    )
    tenant.refresh_from_db()
    return tenant_as_dict(tenant)


@router.delete("/{tenant_id}", response={204: None}, summary="Deactivate a tenant")
def deactivate_tenant(request, tenant_id: str):
    """Its members can no longer act in it; every session in it is revoked at once."""
    _platform_admin(request)
    tenant = _tenant(tenant_id)
    if tenant.is_active:
        tenant_deactivate(tenant=tenant, actor=actor_from_request(request))
    return Status(204, None)
