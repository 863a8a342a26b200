"""Joiner template (/api/v1/lifecycle/joiner-template) and leavers (/api/v1/users/{id}/offboard).

- The template: read with `tenant:read`, replaced with `tenant:update` (the caller must hold every
  role it hands out: 403 `not_held`).
- Offboarding and its cancellation need `user:delete` on the member (the erasure it schedules is
  the GDPR erasure); the stored export needs `user:export`. `{id}` is the global user id (another
  tenant's: 404). See tessera.lifecycle.offboarding for the steps and refusals.
"""

from __future__ import annotations

from typing import Any

from ninja import Router

from tessera.access.bridge.guard import requires
from tessera.administration.member_selectors import member_get
from tessera.api.lifecycle.inputs import JoinerTemplateIn, OffboardIn
from tessera.api.lifecycle.outputs import (
    JoinerTemplateOut,
    OffboardingOut,
    offboarding_as_dict,
    template_as_dict,
)
from tessera.api.security import principal_auth
from tessera.api.users.lookup import user_resource
from tessera.audit.actors import actor_from_request
from tessera.errors import NotFound
from tessera.lifecycle.joiner import joiner_template_get, joiner_template_set
from tessera.lifecycle.offboarding import member_offboard, member_offboard_cancel
from tessera.lifecycle.selectors import offboarding_latest
from tessera.tenancy.models import Membership

template_router = Router(tags=["lifecycle"], auth=principal_auth)


offboard_router = Router(tags=["lifecycle"], auth=principal_auth)


def _member(request, user_id: str) -> Membership:
    found = member_get(tenant=request.tenant, user_id=user_id)
    if found is None:
        raise NotFound("No such user in this tenant")
    return found


@template_router.get(
    "/joiner-template", response=JoinerTemplateOut, summary="The tenant's joiner template"
)
@requires("tenant:read")
def get_template(request):
    return template_as_dict(joiner_template_get(tenant=request.tenant))


@template_router.put(
    "/joiner-template",
    response=JoinerTemplateOut,
    summary="Replace the joiner template (roles by department or job title, MFA, first review)",
)
@requires("tenant:update")
def put_template(request, payload: JoinerTemplateIn):
    template = joiner_template_set(
        tenant=request.tenant,
        rules=payload.rules,
        require_mfa=payload.require_mfa,
        welcome_mail=payload.welcome_mail,
        first_review_after_days=payload.first_review_after_days,
        by=request.membership,
        actor=actor_from_request(request),
    )
    return template_as_dict(template)


@offboard_router.post(
    "/{user_id}/offboard",
    response=OffboardingOut,
    summary="Offboard a leaver: suspend, revoke every credential, transfer, schedule erasure",
    description=(
        "One transaction: the member's data is exported, the membership suspended, every "
        "credential in this tenant revoked, grants and delegations they gave transferred to "
        "`transfer_to` (delegations only where that member holds what they lend), delegations "
        "they received ended, their manager mailed; the GDPR erasure runs at `erase_at` unless "
        "cancelled first."
    ),
)
@requires("user:delete", resource=user_resource)
def offboard(request, user_id: str, payload: OffboardIn):
    offboarding = member_offboard(
        membership=_member(request, user_id),
        by=request.membership,
        transfer_to=payload.transfer_to,
        erase_after_days=payload.erase_after_days,
        actor=actor_from_request(request),
    )
    return offboarding_as_dict(offboarding)


@offboard_router.post(
    "/{user_id}/offboard/cancel",
    response=OffboardingOut,
    summary="Cancel an offboarding before its erasure; the membership gets its status back",
)
@requires("user:delete", resource=user_resource)
def cancel_offboarding(request, user_id: str):
    offboarding = member_offboard_cancel(
        membership=_member(request, user_id),
        by=request.membership,
        actor=actor_from_request(request),
    )
    return offboarding_as_dict(offboarding)


@offboard_router.get(
    "/{user_id}/offboard",
    response=OffboardingOut,
    summary="The member's latest offboarding",
)
@requires("user:read", resource=user_resource)
def get_offboarding(request, user_id: str):
    found = offboarding_latest(tenant=request.tenant, user_id=user_id)
    if found is None:
        raise NotFound("This member was never offboarded")
    return offboarding_as_dict(found)


@offboard_router.get(
    "/{user_id}/offboard/export",
    response=dict[str, Any],
    summary="The member's data as exported when they were offboarded (until the erasure)",
)
@requires("user:export", resource=user_resource)
def get_offboarding_export(request, user_id: str):
    found = offboarding_latest(tenant=request.tenant, user_id=user_id)
    if found is None or found.export is None:
        raise NotFound("No stored export for this member")
    return found.export
