"""Joiner template (/api/v1/lifecycle/joiner-template) and leavers (/api/v1/users/{id}/offboard).

- The template: read with `tenant:read`, replaced with `tenant:update` (the caller must hold every
  role it hands out: 403 `not_held`).
- Offboarding and its cancellation need `user:delete` on the member (the erasure it schedules is
  the GDPR erasure); the stored export needs `user:export`. `{id}` is the global user id (another
  tenant's: 404). See tessera.lifecycle.offboarding for the steps and refusals.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Router, Schema
from pydantic import Field

from tessera.access.bridge.guard import requires
from tessera.administration.member_selectors import member_get
from tessera.api.security import principal_auth
from tessera.api.users.lookup import user_resource
from tessera.audit.actors import actor_from_request
from tessera.errors import NotFound
from tessera.lifecycle.joiner import joiner_template_get, joiner_template_set
from tessera.lifecycle.models import JoinerTemplate, Offboarding
from tessera.lifecycle.offboarding import member_offboard, member_offboard_cancel
from tessera.lifecycle.selectors import offboarding_latest
from tessera.tenancy.models import Membership

template_router = Router(tags=["lifecycle"], auth=principal_auth)
offboard_router = Router(tags=["lifecycle"], auth=principal_auth)


class JoinerRuleIn(Schema):
    department: str | None = None
    job_title: str | None = None
    roles: list[str]


class JoinerTemplateIn(Schema):
    rules: list[dict[str, Any]] = Field(
        default_factory=list,
        description="[{department?, job_title?, roles: [slug]}]: a rule applies when each key "
        "it names equals the member's value; the member gets the roles of every rule that applies",
        json_schema_extra={"items": JoinerRuleIn.model_json_schema()},
    )
    require_mfa: bool = False
    welcome_mail: bool = True
    first_review_after_days: int | None = None


class JoinerTemplateOut(Schema):
    rules: list[dict[str, Any]]
    require_mfa: bool
    welcome_mail: bool
    first_review_after_days: int | None
    updated_at: datetime | None


class OffboardIn(Schema):
    transfer_to: str | None = Field(None, description="user id of the member who takes over")
    erase_after_days: int | None = Field(
        None, description="0-3650; the erasure date is now + this many days (default 30)"
    )


class OffboardingOut(Schema):
    id: str
    user_id: str
    status: str
    erase_at: datetime
    transfer_to: str | None
    steps: dict[str, Any]
    created_at: datetime
    cancelled_at: datetime | None
    erased_at: datetime | None


def template_as_dict(template: JoinerTemplate) -> dict[str, Any]:
    return {
        "rules": template.rules or [],
        "require_mfa": template.require_mfa,
        "welcome_mail": template.welcome_mail,
        "first_review_after_days": template.first_review_after_days,
        "updated_at": template.updated_at,
    }


def offboarding_as_dict(offboarding: Offboarding) -> dict[str, Any]:
    return {
        "id": str(offboarding.pk),
        "user_id": str(offboarding.user_id),
        "status": offboarding.status,
        "erase_at": offboarding.erase_at,
        "transfer_to": str(offboarding.transfer_to.user_id) if offboarding.transfer_to else None,
        "steps": offboarding.steps,
        "created_at": offboarding.created_at,
        "cancelled_at": offboarding.cancelled_at,
        "erased_at": offboarding.erased_at,
    }


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
