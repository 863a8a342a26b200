"""Object-level grants."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from tessera.access.escalation import NotHeld as NotHeld
from tessera.access.escalation import TargetOutranks as TargetOutranks
from tessera.access.escalation import (
    ensure_actor_holds,
)
from tessera.access.models import (
    Grant,
    Role,
)
from tessera.access.services.validation import (
    RESOURCE_TYPE,
    _future,
    _invalid,
    _same_tenant,
    permission_validate,
)
from tessera.audit.models import AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.tenancy.models import Membership, Tenant
from tessera.tenancy.services import membership_version_bump, tenant_policy_bump


def grant_create(
    *,
    tenant: Tenant,
    permission: str,
    resource_type: str,
    resource_id: str,
    membership: Membership | None = None,
    role: Role | None = None,
    expires_at: datetime | None = None,
    granted_by: Membership | None = None,
    actor: Actor | None = None,
) -> Grant:
    """Allow `permission` on one resource to a member or to a role's holders (optional expiry).

    With `granted_by`, that member must hold the permission unconditionally with scope `all` (or
    a grant on the same object) for as long as the grant lasts (403 `not_held`)."""
    now = timezone.now()
    if (membership is None) == (role is None):
        raise _invalid("subject", "Give exactly one of a member or a role.")
    _same_tenant(tenant.pk, membership, role, granted_by)
    permission_validate(permission)
    if not isinstance(resource_type, str) or not RESOURCE_TYPE.fullmatch(resource_type):
        raise _invalid("resource_type", "A lower-case resource name.")
    resource_id = "" if resource_id is None else str(resource_id)
    if not resource_id or len(resource_id) > 128:
        raise _invalid("resource_id", "1–128 characters.")
    _future(expires_at, "expires_at", now)
    if granted_by is not None:
        ensure_actor_holds(
            granted_by,
            [permission],
            resource=(resource_type, resource_id),
            until=expires_at,
            now=now,
        )
    with transaction.atomic():
        grant = Grant.objects.create(
            tenant=tenant,
            membership=membership,
            role=role,
            permission=permission,
            resource_type=resource_type,
            resource_id=resource_id,
            expires_at=expires_at,
            granted_by=granted_by,
        )
        _grant_bump(grant)
        audit_record(
            type=AuditEventType.GRANT_CREATED,
            actor=actor,
            tenant_id=tenant.pk,
            resource_type="grant",
            resource_id=grant.pk,
            changes=_grant_state(grant),
        )
    return grant


def _grant_bump(grant: Grant) -> None:
    if grant.membership_id is not None:
        membership_version_bump(membership_id=grant.membership_id)
    else:
        tenant_policy_bump(tenant_id=grant.tenant_id)


def _grant_state(grant: Grant) -> dict[str, Any]:
    return {
        "permission": grant.permission,
        "resource_type": grant.resource_type,
        "resource_id": grant.resource_id,
        "membership_id": str(grant.membership_id) if grant.membership_id else None,
        "role": grant.role.slug if grant.role is not None else None,
        "expires_at": grant.expires_at.isoformat() if grant.expires_at else None,
    }


def grant_delete(*, grant: Grant, actor: Actor | None = None) -> None:
    """Revoke an object-level grant."""
    with transaction.atomic():
        state = _grant_state(grant)
        grant_id = grant.pk
        grant.delete()
        _grant_bump(grant)
        audit_record(
            type=AuditEventType.GRANT_REVOKED,
            actor=actor,
            tenant_id=grant.tenant_id,
            resource_type="grant",
            resource_id=grant_id,
            changes=state,
        )
