"""The tenant's permission catalog."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from tessera.access.catalog import SYSTEM_PERMISSIONS
from tessera.access.escalation import NotHeld as NotHeld
from tessera.access.escalation import TargetOutranks as TargetOutranks
from tessera.access.models import (
    Permission,
)
from tessera.access.services.validation import permission_validate
from tessera.audit.models import AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.errors import Conflict
from tessera.tenancy.models import Tenant


def permission_create(
    *, tenant: Tenant, permission: str, description: str = "", actor: Actor | None = None
) -> Permission:
    """Add a tenant-defined `resource:action` to the catalog; 409 when it exists."""
    permission_validate(permission, concrete=True)
    if permission in SYSTEM_PERMISSIONS:
        raise Conflict(f"{permission} is a system permission", code="permission_exists")
    try:
        with transaction.atomic():
            entry = Permission.objects.create(
                tenant=tenant, permission=permission, description=(description or "")[:300]
            )
            audit_record(
                type=AuditEventType.PERMISSION_CHANGE,
                actor=actor,
                tenant_id=tenant.pk,
                resource_type="permission",
                resource_id=permission,
                changes={"created": permission, "description": entry.description},
            )
    except IntegrityError:
        raise Conflict(f"{permission} already exists", code="permission_exists") from None
    return entry
