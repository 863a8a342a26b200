"""Writes of tenants and memberships; every access-relevant change bumps a version."""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings
from django.db import IntegrityError, transaction
from django.db.models import F

from tessera import notifications
from tessera.audit.models import AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.errors import Conflict, ValidationFailed, field_error
from tessera.tenancy import events
from tessera.tenancy.cors import forget_tenant_origins
from tessera.tenancy.errors import ManagerInvalid, MembershipExists
from tessera.tenancy.models import Membership, MembershipStatus, Tenant, slug_validator
from tessera.tenancy.tenant_settings import (
    TenantSettings,
    merge_tenant_settings,
    parse_tenant_settings,
)

MEMBERSHIP_FIELDS = (
    "department",
    "job_title",
    "employee_id",
    "cost_center",
    "clearance_level",
    "attributes",
    "gdpr_consent_at",
    "status",
)


def tenant_policy_bump(*, tenant_id) -> None:
    """Invalidate every compiled policy of the tenant (call inside the changing transaction)."""
    Tenant.objects.filter(pk=tenant_id).update(policy_version=F("policy_version") + 1)
    events.tenant_policy_bumped.publish(tenant_id=tenant_id)
    notifications.permissions_changed.publish(tenant_id=tenant_id, user_id=None)


def membership_version_bump(*, membership_id) -> None:
    """Invalidate the compiled policy of one member (call inside the changing transaction)."""
    Membership.objects.filter(pk=membership_id).update(version=F("version") + 1)
    row = Membership.objects.filter(pk=membership_id).values_list("tenant_id", "user_id").first()
    if row is None:
        return
    events.membership_version_bumped.publish(membership_id=membership_id, tenant_id=row[0])
    notifications.permissions_changed.publish(tenant_id=row[0], user_id=row[1])


def _with_platform_mfa_default(data: dict[str, Any] | None) -> dict[str, Any] | None:
    """With settings.NEW_TENANTS_REQUIRE_MFA (the production default), a new tenant requires MFA
    of every member unless its creator named `mfa.required` (ASVS V6.3.3)."""
    if not django_settings.NEW_TENANTS_REQUIRE_MFA:
        return data
    data = dict(data or {})
    mfa = data.get("mfa")
    if mfa is None:
        data["mfa"] = {"required": "all"}
    elif isinstance(mfa, dict) and "required" not in mfa:
        data["mfa"] = {**mfa, "required": "all"}
    return data


def tenant_create(
    *,
    slug: str,
    name: str,
    settings: dict[str, Any] | None = None,
    actor: Actor | None = None,
) -> Tenant:
    """A new tenant with validated settings and the built-in roles; 409 when the slug is taken."""
    slug = (slug or "").strip().lower()
    try:
        slug_validator(slug)
    except Exception:
        raise ValidationFailed(
            "Invalid slug",
            errors=[field_error("slug", "Use 1–63 lower-case letters, digits and inner hyphens.")],
        ) from None
    if not (name or "").strip() or len(name.strip()) > 200:
        raise ValidationFailed("Invalid name", errors=[field_error("name", "1–200 characters.")])
    validated = parse_tenant_settings(_with_platform_mfa_default(settings))
    try:
        with transaction.atomic():
            tenant = Tenant.objects.create(
                slug=slug, name=name.strip(), settings=validated.model_dump()
            )
            events.tenant_created.publish(tenant=tenant)  # access seeds the built-in roles
            transaction.on_commit(forget_tenant_origins)
            audit_record(
                type=AuditEventType.TENANT_CREATED,
                actor=actor,
                tenant_id=tenant.pk,
                resource_type="tenant",
                resource_id=tenant.pk,
                changes={"slug": slug, "name": tenant.name},
            )
    except IntegrityError:
        raise Conflict(
            f"A tenant with slug {slug!r} already exists", code="tenant_exists"
        ) from None
    return tenant


def tenant_settings_update(
    *, tenant: Tenant, patch: dict[str, Any], actor: Actor | None = None
) -> TenantSettings:
    """Merge a partial settings document, validate it and record the change."""
    before = parse_tenant_settings(tenant.settings).model_dump()
    merged = merge_tenant_settings(before, patch)
    with transaction.atomic():
        tenant.settings = merged.model_dump()
        tenant.save(update_fields=["settings", "updated_at"])
        tenant_policy_bump(tenant_id=tenant.pk)  # MFA rules, rate limits: read per version
        transaction.on_commit(forget_tenant_origins)  # the CORS origins of preflights
        audit_record(
            type=AuditEventType.TENANT_SETTINGS_CHANGED,
            actor=actor,
            tenant_id=tenant.pk,
            resource_type="tenant",
            resource_id=tenant.pk,
            changes={"before": before, "after": tenant.settings},
        )
    return merged


def _check_manager(*, membership: Membership | None, tenant: Tenant, manager: Membership | None):
    if manager is None:
        return
    if manager.tenant_id != tenant.pk:
        raise ManagerInvalid(
            "The manager must be a member of the same tenant",
            errors=[field_error("manager_id", "Not a member of this tenant.", "not_found")],
        )
    if membership is None:
        return
    seen = set()
    current: Membership | None = manager
    while current is not None:
        if current.pk == membership.pk:
            raise ManagerInvalid(
                "This manager would create a reporting cycle",
                errors=[field_error("manager_id", "Reporting lines cannot form a cycle.", "cycle")],
            )
        if current.pk in seen:
            break
        seen.add(current.pk)
        current = current.manager


def membership_create(
    *,
    tenant: Tenant,
    user,
    manager: Membership | None = None,
    actor: Actor | None = None,
    **fields: Any,
) -> Membership:
    """Make `user` a member of `tenant`; 409 when they already are (also under a race)."""
    unknown = set(fields) - set(MEMBERSHIP_FIELDS)
    if unknown:
        raise TypeError(f"unknown membership fields: {sorted(unknown)}")
    _check_manager(membership=None, tenant=tenant, manager=manager)
    try:
        with transaction.atomic():
            membership = Membership.objects.create(
                tenant=tenant, user=user, manager=manager, **fields
            )
    except IntegrityError as exc:
        if "employee_id" in str(exc):
            raise Conflict(
                "Another member of this tenant has this employee id",
                errors=[field_error("employee_id", "Already used in this tenant.", "duplicate")],
            ) from None
        raise MembershipExists(f"{user.email} is already a member of {tenant.slug}") from None
    return membership


def membership_set_manager(*, membership: Membership, manager: Membership | None) -> Membership:
    """Change the reporting line; cross-tenant managers and cycles are refused."""
    with transaction.atomic():
        _check_manager(membership=membership, tenant=membership.tenant, manager=manager)
        membership.manager = manager
        membership.save(update_fields=["manager", "updated_at"])
        # team scopes of the whole tenant may change
        tenant_policy_bump(tenant_id=membership.tenant_id)
    return membership


def membership_set_status(*, membership: Membership, status: str) -> Membership:
    if status not in MembershipStatus.values:
        raise ValidationFailed(
            "Invalid status", errors=[field_error("status", f"One of {MembershipStatus.values}.")]
        )
    with transaction.atomic():
        Membership.objects.filter(pk=membership.pk).update(status=status)
        membership.status = status
        membership_version_bump(membership_id=membership.pk)
        notifications.membership_changed.publish(
            tenant_id=membership.tenant_id, user_id=membership.user_id, status=status
        )
    return membership
