"""/api/v1/scim-tokens: the tenant's SCIM credentials (what a directory such as Okta or Entra ID
uses at /scim/v2/).

All three need `tenant:update`; creating one also needs full authority in the tenant (`*:*`,
the escalation rule), because the credential acts on every member. `token` is in the creation
answer only; lists never show it.
"""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Router, Schema, Status

from tessera.access.bridge.guard import requires
from tessera.api.security import principal_auth
from tessera.audit.actors import actor_from_request
from tessera.errors import NotFound
from tessera.scim.models import ScimToken
from tessera.scim.tokens import (
    scim_token_create,
    scim_token_get,
    scim_token_revoke,
    scim_tokens_of,
)

router = Router(tags=["scim"], auth=principal_auth)
MAX_LISTED = 200


class ScimTokenIn(Schema):
    name: str = Field(..., max_length=100, description="what the credential is for, e.g. Okta")


class ScimTokenOut(Schema):
    id: str
    name: str
    prefix: str = Field(description="the characters after `tscim_`, to tell tokens apart")
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ScimTokenCreated(ScimTokenOut):
    token: str = Field(description="the credential itself, shown this once")


def _token(token: ScimToken) -> dict:
    return {
        "id": str(token.pk),
        "name": token.name,
        "prefix": token.prefix,
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "revoked_at": token.revoked_at,
    }


@router.post("", response={201: ScimTokenCreated}, summary="Create a SCIM credential")
@requires("tenant:update")
def create_scim_token(request, payload: ScimTokenIn):
    created = scim_token_create(
        tenant=request.tenant,
        name=payload.name,
        by=request.membership,
        actor=actor_from_request(request),
    )
    return Status(201, {**_token(created.token), "token": created.raw})


@router.get("", response=list[ScimTokenOut], summary="The tenant's SCIM credentials")
@requires("tenant:update")
def list_scim_tokens(request):
    return [_token(t) for t in scim_tokens_of(tenant=request.tenant)[:MAX_LISTED]]


@router.delete("/{token_id}", response={204: None}, summary="Revoke a SCIM credential")
@requires("tenant:update")
def revoke_scim_token(request, token_id: str):
    token = scim_token_get(tenant=request.tenant, token_id=token_id)
    if token is None:
        raise NotFound("No such SCIM token")
    scim_token_revoke(token=token, actor=actor_from_request(request))
    return Status(204, None)
