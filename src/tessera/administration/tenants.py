"""The platform administrator's tenant services: update, deactivate, reactivate, create with
an administrator."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from tessera.administration.member_input import MemberCreated
from tessera.administration.members import member_create
from tessera.audit.models import AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.authn.revocation import credentials_revoke_for_tenant
from tessera.errors import ValidationFailed, field_error
from tessera.identity.emails import normalize_email
from tessera.tenancy.models import Tenant
from tessera.tenancy.services import (
    tenant_create,
    tenant_policy_bump,
    tenant_settings_update,
)

TENANT_FIELDS = ("name", "is_active", "settings")


def tenant_update(
    *, tenant: Tenant, changes: Mapping[str, Any], actor: Actor | None = None
) -> Tenant:
    """Rename, (de)activate or reconfigure a tenant; TENANT_UPDATED with before/after."""

    unknown = sorted(set(changes) - set(TENANT_FIELDS))
    if unknown:
        raise ValidationFailed(
            "Unknown fields",
            errors=[field_error(n, "Cannot be changed here.", "read_only") for n in unknown],
        )
    name = changes.get("name")
    if "name" in changes and (not isinstance(name, str) or not name.strip() or len(name) > 200):
        raise ValidationFailed("Invalid name", errors=[field_error("name", "1–200 characters.")])
    active = changes.get("is_active")
    if "is_active" in changes and not isinstance(active, bool):
        raise ValidationFailed("Invalid is_active", errors=[field_error("is_active", "A boolean.")])
    with transaction.atomic():
        if changes.get("settings") is not None:
            tenant_settings_update(tenant=tenant, patch=changes["settings"], actor=actor)
        if isinstance(name, str) and name.strip() != tenant.name:  # validated above
            before = tenant.name
            tenant.name = name.strip()
            tenant.save(update_fields=["name", "updated_at"])
            audit_record(
                type=AuditEventType.TENANT_UPDATED,
                actor=actor,
                tenant_id=tenant.pk,
                resource_type="tenant",
                resource_id=tenant.pk,
                changes={"before": {"name": before}, "after": {"name": tenant.name}},
            )
        if active is False and tenant.is_active:
            tenant_deactivate(tenant=tenant, actor=actor)
        elif active is True and not tenant.is_active:
            tenant_reactivate(tenant=tenant, actor=actor)
    return tenant


def tenant_deactivate(*, tenant: Tenant, actor: Actor | None = None) -> Tenant:
    """Nobody can act in the tenant any more; every session in it is revoked at once."""

    with transaction.atomic():
        Tenant.objects.filter(pk=tenant.pk).update(is_active=False)
        tenant.is_active = False
        revoked = credentials_revoke_for_tenant(
            tenant=tenant, reason="tenant_deactivated", actor=actor
        )
        audit_record(
            type=AuditEventType.TENANT_DEACTIVATED,
            actor=actor,
            tenant_id=tenant.pk,
            resource_type="tenant",
            resource_id=tenant.pk,
            changes={"before": {"is_active": True}, "after": {"is_active": False}, **revoked},
        )
    return tenant


def tenant_reactivate(*, tenant: Tenant, actor: Actor | None = None) -> Tenant:
    with transaction.atomic():
        Tenant.objects.filter(pk=tenant.pk).update(is_active=True)
        tenant.is_active = True
        tenant_policy_bump(tenant_id=tenant.pk)
        audit_record(
            type=AuditEventType.TENANT_UPDATED,
            actor=actor,
            tenant_id=tenant.pk,
            resource_type="tenant",
            resource_id=tenant.pk,
            changes={"before": {"is_active": False}, "after": {"is_active": True}},
        )
    return tenant


def tenant_create_with_admin(
    *, slug: str, name: str, admin_email: str | None = None, actor: Actor | None = None
) -> tuple[Tenant, MemberCreated | None]:
    """A new tenant with its built-in roles and, given an email, its first administrator.

    A platform administrator vouches for the administrator: the membership is active at once,
    for an existing identity too; a new identity gets an invitation to choose its password.
    """

    email = None
    if admin_email:
        try:
            email = normalize_email(admin_email)
        except ValidationFailed:
            raise ValidationFailed(
                "Invalid admin email",
                errors=[field_error("admin_email", "Enter a valid email address.")],
            ) from None
    with transaction.atomic():
        tenant = tenant_create(slug=slug, name=name, actor=actor)
        created = None
        if email:
            created = member_create(
                tenant=tenant,
                data={"email": email, "roles": ["admin"]},
                by=None,
                actor=actor,
                vouched=True,
            )
    return tenant, created
