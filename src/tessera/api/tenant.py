"""/api/v1/tenant: the caller's own tenant and its settings (password, lockout, sessions, MFA)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from ninja import Router, Schema
from pydantic import ConfigDict

from tessera.access.bridge.guard import requires
from tessera.administration.tenants import tenant_update
from tessera.api.security import principal_auth
from tessera.api.tenants import TenantOut, tenant_as_dict
from tessera.audit.actors import actor_from_request

router = Router(tags=["tenant"], auth=principal_auth)


class OwnTenantPatch(Schema):
    """A partial update: nested settings objects are merged key by key, then validated."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    settings: dict[str, Any] | None = None


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
