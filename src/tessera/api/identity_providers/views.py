"""/api/v1/identity-providers: a tenant's OpenID Connect providers (`idp:*` permissions).

Thin transport over tessera.sso.providers; `client_secret` is accepted, sealed, and never
returned (`client_secret_set` tells whether one is stored).
"""

from __future__ import annotations

from typing import Any

from ninja import Router, Status

from tessera.access.bridge.guard import requires
from tessera.api.identity_providers.inputs import ProviderFields, ProviderIn, ProviderPatch
from tessera.api.identity_providers.outputs import ProviderOut, ProviderPage
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
