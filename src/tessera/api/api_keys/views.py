"""/api/v1/api-keys: create, list and revoke API keys of the caller's tenant.

Who sees and does what:
- `POST` needs `api_key:create`; the key belongs to the caller's membership and its scopes must
  be ones the caller holds (422 `scopes_not_held` naming each one that is not). With
  `service_account_id` the key belongs to that service account of the tenant; this needs
  `api_key:revoke` as well (the key administrator's permission), and the scopes must be held by
  the caller and by the service account. API keys cannot create keys (403): a key minted by a key
  would outlive the first one's expiry and address allowlist.
- `GET` needs `api_key:read` and lists the caller's own keys; callers who may `api_key:revoke`
  (key administrators) see every key of the tenant (`?user_id=` narrows to one owner).
- `DELETE` revokes a key: one's own key always (revoking one's credential needs no permission),
  anyone else's with `api_key:revoke`. Keys the caller may not see answer 404.
The key itself (`key`, `tsk_…`) appears only in the 201 answer, with `Cache-Control: no-store`.
"""

from __future__ import annotations

from django.http import HttpResponse
from ninja import Router, Status

from tessera.access.bridge.guard import (
    ScopeMissing,
    authorize,
    is_allowed,
    require_member,
    requires,
    scopes_allow,
)
from tessera.administration.service_accounts import service_account_get
from tessera.api.api_keys.inputs import ApiKeyIn
from tessera.api.api_keys.outputs import ApiKeyCreatedOut, ApiKeyPage
from tessera.api.pagination import (
    clamp_limit,
    decode_created_cursor,
    encode_created_cursor,
)
from tessera.api.security import principal_auth
from tessera.audit.actors import actor_from_request
from tessera.authn.api_keys import api_key_create, api_key_revoke
from tessera.authn.errors import ApiKeyNotAllowed
from tessera.authn.models import ApiKey
from tessera.authn.selectors import api_key_get, api_key_list
from tessera.errors import NotFound, ValidationFailed, field_error
from tessera.tenancy.selectors import membership_get

router = Router(tags=["api-keys"], auth=principal_auth)


def _key(key: ApiKey, owner_user) -> dict:
    return {
        "id": str(key.pk),
        "name": key.name,
        "prefix": key.prefix,
        "scopes": list(key.scopes),
        "allowed_ips": list(key.allowed_ips or ()),
        "expires_at": key.expires_at,
        "created_at": key.created_at,
        "last_used_at": key.last_used_at,
        "use_count": key.use_count,
        "owner": {
            "user_id": str(owner_user.pk),
            "email": owner_user.email,
            "is_service_account": owner_user.is_service_account,
        },
    }


@router.post("", response={201: ApiKeyCreatedOut}, summary="Create an API key (shown once)")
@requires("api_key:create")
def create_key(request, response: HttpResponse, payload: ApiKeyIn):
    if request.principal.api_key_id is not None:
        raise ApiKeyNotAllowed("API keys cannot create API keys; sign in to create one")
    caller = request.membership
    owner = caller
    if payload.service_account_id is not None:
        authorize(request, "api_key:revoke")
        owner = service_account_get(tenant=request.tenant, user_id=payload.service_account_id)
        if owner is None:
            raise ValidationFailed(
                "Unknown service account",
                errors=[
                    field_error(
                        "service_account_id", "Not a service account of this tenant.", "not_found"
                    )
                ],
            )
    created = api_key_create(
        owner=owner,
        by=caller,
        name=payload.name,
        scopes=payload.scopes,
        allowed_ips=payload.allowed_ips,
        expires_at=payload.expires_at,
        actor=actor_from_request(request),
    )
    response["Cache-Control"] = "no-store"
    return Status(201, {**_key(created.key, owner.user), "key": created.raw})


@router.get("", response=ApiKeyPage, summary="API keys: one's own, or all (key administrators)")
@requires("api_key:read")
def list_keys(request, limit: int = 50, cursor: str | None = None, user_id: str | None = None):
    size = clamp_limit(limit)
    after = decode_created_cursor(cursor)
    if is_allowed(request, "api_key:revoke"):
        owners = None
        if user_id is not None:
            member = membership_get(tenant=request.tenant, user_id=user_id)
            owners = [member.pk] if member is not None else []
    else:
        owners = [request.membership.pk]
    rows = api_key_list(tenant=request.tenant, membership_ids=owners, limit=size + 1, after=after)
    more = len(rows) > size
    rows = rows[:size]
    return {
        "items": [_key(k, k.membership.user) for k in rows],
        "next_cursor": encode_created_cursor(rows[-1]) if more else None,
    }


@router.delete("/{key_id}", response={204: None}, summary="Revoke an API key")
def revoke_key(request, key_id: str):
    caller = require_member(request)
    principal = request.principal
    if not scopes_allow(principal.scopes, "api_key:revoke"):
        raise ScopeMissing("The API key's scopes do not include api_key:revoke")
    key = api_key_get(tenant=request.tenant, key_id=key_id)
    if key is None or (
        key.membership_id != caller.pk and not is_allowed(request, "api_key:revoke")
    ):
        raise NotFound("No such API key")
    api_key_revoke(key=key, actor=actor_from_request(request))
    return Status(204, None)
