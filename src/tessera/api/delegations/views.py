"""/api/v1/delegations: lending a role or some permissions to another member for a window.

Any active member may delegate what they themselves hold (the service refuses anything else);
delegating on someone's behalf (`delegator_id`) needs `delegation:create`, and the caller must hold
what is delegated as well as the named delegator (403 `not_held`). Pending delegations (when the
tenant requires approval) are approved with `delegation:approve` by someone who holds what is
delegated and is neither a party nor its creator (403 `four_eyes`). The delegator, or
anyone allowed `delegation:revoke` or `delegation:approve`, may revoke. A delegation ends on its
own at `ends_at` (the engine evaluates its window); it then shows `status: "expired"`.
"""

from __future__ import annotations

import uuid

from django.utils import timezone
from ninja import Query, Router, Status

from tessera.access.bridge.guard import (
    ScopeMissing,
    authorize,
    is_allowed,
    require_member,
    requires,
    scopes_allow,
)
from tessera.access.models import Delegation, DelegationStatus
from tessera.access.selectors import delegation_get, delegation_list, role_get
from tessera.access.services.delegations import (
    delegation_approve,
    delegation_create,
    delegation_revoke,
)
from tessera.api.delegations.inputs import DelegationFilters, DelegationIn
from tessera.api.delegations.outputs import DelegationOut, DelegationPage, delegation_as_dict
from tessera.api.pagination import newest_first_page
from tessera.api.security import principal_auth
from tessera.audit.actors import actor_from_request
from tessera.errors import NotFound, PermissionDenied, ValidationFailed, field_error
from tessera.tenancy.models import Membership
from tessera.tenancy.selectors import membership_get

router = Router(tags=["delegations"], auth=principal_auth)


STATUSES = (*DelegationStatus.values, "expired")


def _with_people(qs):
    return qs.select_related("created_by", "approved_by")


def _acting_member(request, action: str) -> Membership:
    """The caller's active membership (401/403 as the guard answers) for an action that any
    member may do on their own account; API keys need the action in their scopes."""
    membership = require_member(request)
    if not scopes_allow(request.principal.scopes, action):
        raise ScopeMissing(f"The API key's scopes do not include {action}")
    return membership


def _member_by_user(request, user_id: str, field: str) -> Membership:
    membership = membership_get(tenant=request.tenant, user_id=user_id)
    if membership is None:
        raise ValidationFailed(
            "Unknown member",
            errors=[field_error(field, "Not a member of this tenant.", "not_found")],
        )
    return membership


@router.get("", response=DelegationPage, summary="The tenant's delegations, newest first")
@requires("delegation:read")
def list_delegations(
    request, filters: Query[DelegationFilters], limit: int = 50, cursor: str | None = None
):
    now = timezone.now()
    qs = _with_people(delegation_list(tenant=request.tenant))
    if filters.status:
        if filters.status not in STATUSES:
            raise ValidationFailed(
                "Invalid status", errors=[field_error("status", f"One of {', '.join(STATUSES)}.")]
            )
        if filters.status == "expired":
            qs = qs.filter(status=DelegationStatus.ACTIVE, ends_at__lte=now)
        elif filters.status == DelegationStatus.ACTIVE:
            qs = qs.filter(status=DelegationStatus.ACTIVE, ends_at__gt=now)
        else:
            qs = qs.filter(status=filters.status)
    for name, column in (
        ("delegate_id", "delegate__user_id"),
        ("delegator_id", "delegator__user_id"),
    ):
        value = getattr(filters, name)
        if value:
            try:
                qs = qs.filter(**{column: uuid.UUID(value)})
            except ValueError:
                qs = qs.none()
    rows, following = newest_first_page(qs, cursor=cursor, limit=limit)
    return {"items": [delegation_as_dict(d, now) for d in rows], "next_cursor": following}


@router.post("", response={201: DelegationOut}, summary="Delegate a role or permissions")
def create_delegation(request, payload: DelegationIn):
    caller = _acting_member(request, "delegation:create")
    delegator = caller
    if payload.delegator_id and payload.delegator_id != str(caller.user_id):
        authorize(request, "delegation:create")  # on someone's behalf
        delegator = _member_by_user(request, payload.delegator_id, "delegator_id")
    delegate = _member_by_user(request, payload.delegate_id, "delegate_id")
    role = None
    if payload.role is not None:
        try:
            role = role_get(tenant=request.tenant, slug=payload.role)
        except NotFound:
            raise ValidationFailed(
                "Unknown role",
                errors=[field_error("role", "No such role in this tenant.", "not_found")],
            ) from None
    delegation = delegation_create(
        delegator=delegator,
        delegate=delegate,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        role=role,
        permissions=payload.permissions,
        reason=payload.reason,
        created_by=caller,
        actor=actor_from_request(request),
    )
    found = _with_people(delegation_list(tenant=request.tenant)).get(pk=delegation.pk)
    return Status(201, delegation_as_dict(found))


def _delegation(request, delegation_id: str) -> Delegation:
    delegation = delegation_get(tenant=request.tenant, delegation_id=delegation_id)
    return _with_people(delegation_list(tenant=request.tenant)).get(pk=delegation.pk)


@router.post("/{delegation_id}/approve", response=DelegationOut, summary="Approve a pending one")
@requires("delegation:approve")
def approve_delegation(request, delegation_id: str):
    delegation = _delegation(request, delegation_id)
    delegation_approve(
        delegation=delegation, approver=request.membership, actor=actor_from_request(request)
    )
    return delegation_as_dict(_delegation(request, delegation_id))


@router.post("/{delegation_id}/revoke", response=DelegationOut, summary="End a delegation now")
def revoke_delegation(request, delegation_id: str):
    caller = _acting_member(request, "delegation:revoke")
    delegation = _delegation(request, delegation_id)
    if delegation.delegator_id != caller.pk and not (
        is_allowed(request, "delegation:revoke") or is_allowed(request, "delegation:approve")
    ):
        raise PermissionDenied("Only the delegator or an approver may revoke a delegation")
    delegation_revoke(delegation=delegation, actor=actor_from_request(request))
    return delegation_as_dict(_delegation(request, delegation_id))
