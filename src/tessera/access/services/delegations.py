"""Delegations: create, approve, revoke, end those a member gave."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from tessera.access.escalation import NotHeld as NotHeld
from tessera.access.escalation import TargetOutranks as TargetOutranks
from tessera.access.escalation import (
    ensure_actor_holds,
)
from tessera.access.models import (
    Delegation,
    DelegationStatus,
    Role,
)
from tessera.access.selectors import role_effective_rules
from tessera.access.services.validation import _future, _invalid, _same_tenant, permission_validate
from tessera.audit.models import AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.errors import Conflict, PermissionDenied
from tessera.tenancy.models import Membership
from tessera.tenancy.services import membership_version_bump


def delegation_create(
    *,
    delegator: Membership,
    delegate: Membership,
    ends_at: datetime,
    starts_at: datetime | None = None,
    role: Role | None = None,
    permissions: Sequence[str] | None = None,
    reason: str = "",
    created_by: Membership | None = None,
    actor: Actor | None = None,
) -> Delegation:
    """The delegator lends a role or some permissions to the delegate for [starts_at, ends_at).

    The delegator must hold what they delegate until `ends_at`, and so must `created_by` — whoever
    creates it on the delegator's behalf (403 `not_held`): naming someone else as delegator never
    hands out more than the caller holds. The window must end in the future and last at most the
    tenant's `delegation.max_days`. Status is `pending` when the tenant requires approval
    (`delegation.require_approval`), else `active`.
    """
    now = timezone.now()
    tenant = delegator.tenant
    _same_tenant(delegator.tenant_id, delegate, role, created_by)
    if delegator.pk == delegate.pk:
        raise _invalid("delegate_id", "A member cannot delegate to themselves.")
    if not delegate.is_active or not delegator.is_active:
        raise Conflict("Both members must be active", code="membership_inactive")
    if (role is None) == (not permissions):
        raise _invalid("role", "Give either a role or a list of permissions.")
    if permissions is not None and not isinstance(permissions, list | tuple):
        raise _invalid("permissions", "A list of permissions.")
    perms = [
        permission_validate(p, where=f"permissions[{i}]") for i, p in enumerate(permissions or [])
    ]
    perms = list(dict.fromkeys(perms))
    starts_at = starts_at or now
    if starts_at.tzinfo is None or ends_at is None or ends_at.tzinfo is None:
        raise _invalid("ends_at", "Give timezone-aware start and end times.")
    if ends_at <= starts_at:
        raise _invalid("ends_at", "Must be after starts_at.")
    _future(ends_at, "ends_at", now)
    policy = tenant.policy.delegation
    if ends_at - starts_at > timedelta(days=policy.max_days):
        raise _invalid("ends_at", f"A delegation lasts at most {policy.max_days} days.")
    wanted = role_effective_rules(role) if role is not None else perms
    ensure_actor_holds(delegator, wanted, until=ends_at, now=now)
    if created_by is not None and created_by.pk != delegator.pk:
        ensure_actor_holds(created_by, wanted, until=ends_at, now=now)
    status = DelegationStatus.PENDING if policy.require_approval else DelegationStatus.ACTIVE
    with transaction.atomic():
        delegation = Delegation.objects.create(
            tenant_id=delegator.tenant_id,
            delegator=delegator,
            delegate=delegate,
            role=role,
            permissions=perms,
            starts_at=starts_at,
            ends_at=ends_at,
            reason=(reason or "")[:500],
            status=status,
            created_by=created_by or delegator,
        )
        if status == DelegationStatus.ACTIVE:
            membership_version_bump(membership_id=delegate.pk)
        audit_record(
            type=AuditEventType.DELEGATION_CREATED,
            actor=actor,
            tenant_id=delegator.tenant_id,
            resource_type="delegation",
            resource_id=delegation.pk,
            changes=_delegation_state(delegation),
        )
    return delegation


def _delegation_state(delegation: Delegation) -> dict[str, Any]:
    return {
        "delegator_id": str(delegation.delegator.user_id),
        "delegate_id": str(delegation.delegate.user_id),
        "role": delegation.role.slug if delegation.role is not None else None,
        "permissions": list(delegation.permissions or []),
        "starts_at": delegation.starts_at.isoformat(),
        "ends_at": delegation.ends_at.isoformat(),
        "status": delegation.status,
        "reason": delegation.reason,
    }


def delegation_approve(
    *, delegation: Delegation, approver: Membership, actor: Actor | None = None
) -> Delegation:
    """Activate a pending delegation. The approver is neither party nor whoever created it
    (403 `four_eyes`), and holds what is delegated until it ends (403 `not_held`); only a
    pending delegation whose window has not ended can be approved (409)."""
    _same_tenant(delegation.tenant_id, approver)
    parties = (delegation.delegator_id, delegation.delegate_id, delegation.created_by_id)
    if approver.pk in parties:
        raise PermissionDenied(
            "A delegation is approved by someone other than its parties and its creator",
            code="four_eyes",
        )
    wanted = (
        role_effective_rules(delegation.role)
        if delegation.role is not None
        else list(delegation.permissions or [])
    )
    ensure_actor_holds(approver, wanted, until=delegation.ends_at)
    with transaction.atomic():
        locked = Delegation.objects.select_for_update().get(pk=delegation.pk)
        if locked.status != DelegationStatus.PENDING:
            raise Conflict(f"The delegation is {locked.status}", code="delegation_state")
        if locked.ends_at <= timezone.now():
            raise Conflict("The delegation's window has ended", code="delegation_state")
        locked.status = DelegationStatus.ACTIVE
        locked.approved_by = approver
        locked.save(update_fields=["status", "approved_by"])
        membership_version_bump(membership_id=locked.delegate_id)
        audit_record(
            type=AuditEventType.DELEGATION_APPROVED,
            actor=actor,
            tenant_id=locked.tenant_id,
            resource_type="delegation",
            resource_id=locked.pk,
            changes=_delegation_state(locked),
        )
    delegation.status, delegation.approved_by = locked.status, approver
    return delegation


def _delegation_end(delegation: Delegation, *, actor: Actor | None, reason: str = "") -> None:
    was_active = delegation.status == DelegationStatus.ACTIVE
    delegation.status = DelegationStatus.REVOKED
    delegation.revoked_at = timezone.now()
    delegation.save(update_fields=["status", "revoked_at"])
    if was_active:
        membership_version_bump(membership_id=delegation.delegate_id)
    changes = _delegation_state(delegation)
    if reason:
        changes["reason_revoked"] = reason
    audit_record(
        type=AuditEventType.DELEGATION_REVOKED,
        actor=actor,
        tenant_id=delegation.tenant_id,
        resource_type="delegation",
        resource_id=delegation.pk,
        changes=changes,
    )


def delegation_revoke(*, delegation: Delegation, actor: Actor | None = None) -> Delegation:
    """End a pending or active delegation at once (409 when already ended)."""
    with transaction.atomic():
        locked = Delegation.objects.select_for_update().get(pk=delegation.pk)
        if locked.status not in (DelegationStatus.ACTIVE, DelegationStatus.PENDING):
            raise Conflict(f"The delegation is {locked.status}", code="delegation_state")
        _delegation_end(locked, actor=actor)
    delegation.status, delegation.revoked_at = locked.status, locked.revoked_at
    return delegation


def delegations_revoke_given(*, membership: Membership, actor: Actor | None = None) -> int:
    """End every pending or active delegation the member gave (call when deactivating or
    removing them); returns how many."""
    with transaction.atomic():
        found = list(
            Delegation.objects.select_for_update().filter(
                delegator=membership,
                status__in=[DelegationStatus.ACTIVE, DelegationStatus.PENDING],
            )
        )
        for delegation in found:
            _delegation_end(delegation, actor=actor, reason="delegator deactivated or removed")
    return len(found)
