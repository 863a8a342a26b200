"""Roles: the built-in set, create, update and delete."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import IntegrityError, transaction

from tessera.access.catalog import BUILTIN_ROLES
from tessera.access.escalation import NotHeld as NotHeld
from tessera.access.escalation import TargetOutranks as TargetOutranks
from tessera.access.models import (
    Role,
    RoleAssignment,
    RoleRule,
)
from tessera.access.selectors import role_rules
from tessera.access.services.validation import (
    _UNSET,
    ADMIN_ROLE,
    ROLE_SLUG,
    _invalid,
    _rule_rows,
    parents_validate,
    rules_validate,
)
from tessera.audit.models import AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.errors import Conflict
from tessera.tenancy.models import Tenant
from tessera.tenancy.services import tenant_policy_bump


class RoleFull(Conflict):
    code = "role_full"


class SystemRole(Conflict):
    code = "system_role"


def roles_create_builtin(*, tenant: Tenant) -> list[Role]:
    """The built-in roles (admin, manager, member, viewer) of a new tenant."""
    roles = []
    with transaction.atomic():
        for slug, spec in BUILTIN_ROLES.items():
            role, created = Role.objects.get_or_create(
                tenant=tenant,
                slug=slug,
                defaults={
                    "name": spec["name"],
                    "description": spec["description"],
                    "is_system": True,
                },
            )
            if created:
                RoleRule.objects.bulk_create(
                    RoleRule(role=role, position=i, **rule) for i, rule in enumerate(spec["rules"])
                )
            roles.append(role)
    return roles


def _role_state(role: Role) -> dict[str, Any]:
    return {
        "slug": role.slug,
        "name": role.name,
        "description": role.description,
        "parents": sorted(role.parents.values_list("slug", flat=True)),
        "max_members": role.max_members,
        "rules": role_rules(role),
    }


MAX_MEMBERS_LIMIT = 2_147_483_647  # the column's (PositiveIntegerField) largest value


def _check_max_members(value: Any) -> None:
    if value is not None and (
        not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_MEMBERS_LIMIT
    ):
        raise _invalid("max_members", "A positive whole number, or null for no limit.")


def role_create(
    *,
    tenant: Tenant,
    slug: str,
    name: str,
    description: str = "",
    parents: Sequence[str] = (),
    rules: Sequence[Mapping[str, Any]] = (),
    max_members: int | None = None,
    ui_config: Mapping[str, Any] | None = None,
    actor: Actor | None = None,
) -> Role:
    """A new tenant role; 422 for bad rules (naming the bad operator) or parents, 409 if taken."""
    slug = (slug or "").strip().lower()
    if not ROLE_SLUG.fullmatch(slug):
        raise _invalid("slug", "Use 1–64 lower-case letters, digits, '-' and '_'.")
    if not (name or "").strip():
        raise _invalid("name", "A name is required.")
    _check_max_members(max_members)
    validated = rules_validate(list(rules))
    parent_roles = parents_validate(tenant=tenant, slugs=parents)
    try:
        with transaction.atomic():
            role = Role.objects.create(
                tenant=tenant,
                slug=slug,
                name=name.strip()[:120],
                description=description or "",
                max_members=max_members,
                ui_config=dict(ui_config or {}),
            )
            role.parents.set(parent_roles)
            RoleRule.objects.bulk_create(_rule_rows(RoleRule, validated, role=role))
            audit_record(
                type=AuditEventType.ROLE_CREATED,
                actor=actor,
                tenant_id=tenant.pk,
                resource_type="role",
                resource_id=role.slug,
                changes=_role_state(role),
            )
    except IntegrityError:
        raise Conflict(f"A role {slug!r} already exists", code="role_exists") from None
    return role


def role_update(
    *,
    role: Role,
    name: str = _UNSET,
    description: str = _UNSET,
    parents: Sequence[str] = _UNSET,
    rules: Sequence[Mapping[str, Any]] = _UNSET,
    max_members: int | None = _UNSET,
    ui_config: Mapping[str, Any] = _UNSET,
    actor: Actor | None = None,
) -> Role:
    """Change a role; rules and parents are replaced wholesale (tenant policy bumped when they
    change). The built-in `admin` role's rules and parents cannot change (409)."""
    access_change = rules is not _UNSET or parents is not _UNSET
    if access_change and role.is_system and role.slug == ADMIN_ROLE:
        raise SystemRole("The built-in admin role's rules cannot be changed")
    if name is not _UNSET and not (name or "").strip():
        raise _invalid("name", "A name is required.")
    if max_members is not _UNSET:
        _check_max_members(max_members)
    validated = rules_validate(list(rules)) if rules is not _UNSET else None
    parent_roles = (
        parents_validate(tenant=role.tenant, slugs=parents, role=role)
        if parents is not _UNSET
        else None
    )
    with transaction.atomic():
        before = _role_state(role)
        fields = ["updated_at"]
        value: Any
        for attr, value in (
            ("name", name),
            ("description", description),
            ("max_members", max_members),
            ("ui_config", ui_config),
        ):
            if value is not _UNSET:
                if attr == "name":
                    value = value.strip()[:120]
                elif attr == "ui_config":
                    value = dict(value or {})
                setattr(role, attr, value if value is not None or attr == "max_members" else "")
                fields.append(attr)
        role.save(update_fields=fields)
        if parent_roles is not None:
            role.parents.set(parent_roles)
        if validated is not None:
            role.rules.all().delete()
            RoleRule.objects.bulk_create(_rule_rows(RoleRule, validated, role=role))
        after = _role_state(role)
        if before["rules"] != after["rules"] or before["parents"] != after["parents"]:
            tenant_policy_bump(tenant_id=role.tenant_id)
        audit_record(
            type=AuditEventType.ROLE_UPDATED,
            actor=actor,
            tenant_id=role.tenant_id,
            resource_type="role",
            resource_id=role.slug,
            changes={"before": before, "after": after},
        )
    return role


def role_delete(*, role: Role, actor: Actor | None = None) -> None:
    """Delete a tenant role (its assignments, grants and delegations go with it); system roles
    cannot be deleted (409)."""
    if role.is_system:
        raise SystemRole(f"The built-in role {role.slug!r} cannot be deleted")
    with transaction.atomic():
        state = _role_state(role)
        holders = RoleAssignment.objects.filter(role=role).count()
        role.delete()
        tenant_policy_bump(tenant_id=role.tenant_id)
        audit_record(
            type=AuditEventType.ROLE_DELETED,
            actor=actor,
            tenant_id=role.tenant_id,
            resource_type="role",
            resource_id=state["slug"],
            changes={**state, "holders": holders},
        )
