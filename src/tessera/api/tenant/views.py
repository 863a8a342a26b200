"""/api/v1/tenant: the caller's own tenant and its settings (password, lockout, sessions, MFA)."""

from __future__ import annotations

from django.db import transaction
from ninja import Router

from tessera.access.bridge.guard import requires
from tessera.administration.tenants import tenant_update
from tessera.api.security import principal_auth
from tessera.api.tenant.inputs import OwnTenantPatch
from tessera.api.tenants.outputs import TenantOut, tenant_as_dict
from tessera.audit.actors import actor_from_request

router = Router(tags=["tenant"], auth=principal_auth)


@router.get("", response=TenantOut, summary="The caller's tenant, with its settings")
@requires("tenant:read")
def get_own_tenant(request):
    return tenant_as_dict(request.tenant)


@router.patch("", response=TenantOut, summary="Change the tenant's name or settings")
@requires("tenant:update")
def update_own_tenant(request, payload: OwnTenantPatch):
    tenant = request.tenant
    with transaction.atomic():
        tenant_update(
            tenant=tenant,
            changes=payload.dict(exclude_unset=True, exclude_none=True),
            actor=actor_from_request(request),
        )
    tenant.refresh_from_db()
    return tenant_as_dict(tenant)
