"""/api/v1/identity-providers: a tenant's OpenID Connect providers (`idp:*` permissions).

Thin transport over tessera.sso.providers; `client_secret` is accepted, sealed, and never
returned (`client_secret_set` tells whether one is stored).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from tessera.access.bridge.guard import requires
from tessera.api.pagination import newest_first_page
from tessera.api.security import principal_auth
from tessera.audit.actors import actor_from_request
from tessera.sso.providers import (
    provider_create,
    provider_delete,
    provider_state,
    provider_update,
)
from tessera.sso.selectors import callback_url, provider_get, provider_list, start_url

router = Router(tags=["single sign-on"], auth=principal_auth)

Kind = Literal["oidc", "entra", "google", "okta"]


class GroupRule(Schema):
    model_config = ConfigDict(extra="forbid")

    group: str = Field(..., max_length=256)
    roles: list[str] = Field(..., max_length=100)


class ProviderFields(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=120)
    issuer: str | None = Field(None, max_length=500, description="expected `iss`; `{tid}` allowed")
    discovery_url: str | None = Field(None, max_length=500)
    entra_tenant_id: str | None = Field(
        None, max_length=100, description="Entra: directory id, or `organizations` (multi-tenant)"
    )
    authorization_endpoint: str | None = Field(None, max_length=500)
    token_endpoint: str | None = Field(None, max_length=500)
    jwks_uri: str | None = Field(None, max_length=500)
    client_id: str | None = Field(None, max_length=255)
    client_secret: str | None = Field(None, max_length=2000, description="write-only, sealed")
    scopes: list[str] | None = Field(None, max_length=30)
    jit: bool | None = None
    enabled: bool | None = None
    claim_mapping: dict[str, str] | None = None
    group_claim: str | None = Field(None, max_length=120)
    group_prefix: str | None = Field(None, max_length=120)
    default_roles: list[str] | None = Field(None, max_length=50)
    group_mapping: list[GroupRule] | None = Field(None, max_length=1000)
    return_origins: list[str] | None = Field(None, max_length=50)
    allowed_tenants: list[str] | None = Field(None, max_length=50)
    hosted_domain: str | None = Field(None, max_length=253)


class ProviderIn(ProviderFields):
    kind: Kind = "oidc"
    name: str = Field(..., max_length=120)
    client_id: str = Field(..., max_length=255)


class ProviderPatch(ProviderFields):
    kind: Kind | None = None


class ProviderOut(Schema):
    id: str
    kind: str
    name: str
    issuer: str
    discovery_url: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    client_id: str
    client_secret_set: bool
    scopes: list[str]
    jit: bool
    enabled: bool
    claim_mapping: dict[str, str]
    group_claim: str
    group_prefix: str
    default_roles: list[str]
    group_mapping: list[dict[str, Any]]
    return_origins: list[str]
    allowed_tenants: list[str]
    hosted_domain: str
    start_url: str
    redirect_uri: str
    created_at: datetime
    updated_at: datetime


class ProviderPage(Schema):
    items: list[ProviderOut]
    next_cursor: str | None


def _out(provider) -> dict[str, Any]:
    return {
        **provider_state(provider),
        "start_url": start_url(provider),
        "redirect_uri": callback_url(),
    }


def _body(payload: ProviderFields) -> dict[str, Any]:
    data = payload.dict(exclude_unset=True)
    if payload.group_mapping is not None:
        data["group_mapping"] = [rule.dict() for rule in payload.group_mapping]
    return data


@router.get("", response=ProviderPage, summary="The tenant's identity providers")
@requires("idp:read")
def list_providers(request, limit: int = 50, cursor: str | None = None):
    rows, following = newest_first_page(
        provider_list(tenant=request.tenant), cursor=cursor, limit=limit
    )
    return {"items": [_out(p) for p in rows], "next_cursor": following}


@router.post(
    "", response={201: ProviderOut}, summary="Register an identity provider (OpenID Connect)"
)
@requires("idp:create")
def create_provider(request, payload: ProviderIn):
    provider = provider_create(
        tenant=request.tenant,
        data=_body(payload),
        by=request.membership,
        actor=actor_from_request(request),
    )
    return Status(201, _out(provider))


@router.get("/{provider_id}", response=ProviderOut, summary="One identity provider")
@requires("idp:read")
def get_provider(request, provider_id: str):
    return _out(provider_get(tenant=request.tenant, provider_id=provider_id))


@router.patch("/{provider_id}", response=ProviderOut, summary="Change an identity provider")
@requires("idp:update")
def update_provider(request, provider_id: str, payload: ProviderPatch):
    provider = provider_get(tenant=request.tenant, provider_id=provider_id)
    provider_update(
        provider=provider,
        data=_body(payload),
        by=request.membership,
        actor=actor_from_request(request),
    )
    return _out(provider_get(tenant=request.tenant, provider_id=provider_id))


@router.delete("/{provider_id}", response={204: None}, summary="Remove an identity provider")
@requires("idp:delete")
def delete_provider(request, provider_id: str):
    provider = provider_get(tenant=request.tenant, provider_id=provider_id)
    provider_delete(provider=provider, actor=actor_from_request(request))
    return Status(204, None)
