"""/api/v1/service-accounts: non-human members of the caller's tenant (roles, API keys, no login).

`POST` needs `user:create` (and the roles given must be ones the caller may assign, as for any
member); `GET` needs `user:read`. Afterwards a service account is a member like the others under
/api/v1/users/{id} (roles, deactivation, removal); its keys are created with
`POST /api/v1/api-keys {service_account_id}`.
"""

from __future__ import annotations

from ninja import Router, Status

from tessera.access.bridge.guard import requires
from tessera.administration.member_selectors import member_role_slugs
from tessera.administration.service_accounts import service_account_create, service_accounts_list
from tessera.api.pagination import (
    clamp_limit,
    decode_created_cursor,
    encode_created_cursor,
)
from tessera.api.security import principal_auth
from tessera.api.service_accounts.inputs import ServiceAccountIn
from tessera.api.service_accounts.outputs import ServiceAccountOut, ServiceAccountPage
from tessera.audit.actors import actor_from_request
from tessera.tenancy.models import Membership

router = Router(tags=["service-accounts"], auth=principal_auth)


def _account(membership: Membership) -> dict:
    user = membership.user
    return {
        "id": str(user.pk),
        "membership_id": str(membership.pk),
        "name": user.first_name,
        "email": user.email,
        "status": membership.status,
        "roles": member_role_slugs(membership),
        "created_at": membership.created_at,
    }


@router.post("", response={201: ServiceAccountOut}, summary="Create a service account")
@requires("user:create")
def create_service_account(request, payload: ServiceAccountIn):
    membership = service_account_create(
        tenant=request.tenant,
        name=payload.name,
        roles=payload.roles or (),
        description=payload.description,
        by=request.membership,
        actor=actor_from_request(request),
    )
    return Status(201, _account(membership))


@router.get("", response=ServiceAccountPage, summary="The tenant's service accounts")
@requires("user:read")
def list_service_accounts(request, limit: int = 50, cursor: str | None = None):
    size = clamp_limit(limit)
    after = decode_created_cursor(cursor)
    rows = service_accounts_list(tenant=request.tenant, limit=size + 1, after=after)
    more = len(rows) > size
    rows = rows[:size]
    return {
        "items": [_account(m) for m in rows],
        "next_cursor": encode_created_cursor(rows[-1]) if more else None,
    }
