"""Writes of access data. Every change that affects decisions bumps a version in its transaction.

Which version: a role's rules or parents, a role's deletion, a grant to a role → the tenant's
policy version (`tenant_policy_bump`); an assignment, an override, a grant to a member, a
delegation → the member's version (`membership_version_bump`). Every write records its audit
event in the same transaction.

Guard rails: `ensure_actor_holds` (no one grants what they do not hold), `ensure_target_within`
(no one acts on a member who holds more than they do) — both `tessera.access.escalation` — and
`ensure_not_last_admin` (the last active administrator cannot be removed or demoted). The services
apply them when told who acts (`granted_by`, `by`, `created_by`, `approver`); the HTTP layer may
call them directly too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from tessera.access.catalog import BUILTIN_ROLES, SYSTEM_PERMISSIONS
from tessera.access.escalation import NotHeld as NotHeld
from tessera.access.escalation import TargetOutranks as TargetOutranks
from tessera.access.escalation import (
    ensure_actor_holds,
    ensure_change_within,
    ensure_target_within,
    held_rules,
)
from tessera.access.models import (
    Delegation,
    DelegationStatus,
    Effect,
    Grant,
    MembershipOverride,
    Permission,
    Role,
    RoleAssignment,
    RoleRule,
)
from tessera.audit.models import AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.engine import (
    ConditionError,
    PolicyError,
    RuleSpec,
    find_role_cycle,
    permission_covers,
    rule_from_json,
    validate_permission,
)
from tessera.errors import Conflict, NotFound, PermissionDenied, ValidationFailed, field_error
from tessera.tenancy.models import Membership, MembershipStatus, Tenant
from tessera.tenancy.services import membership_version_bump, tenant_policy_bump

ADMIN_ROLE = "admin"
ROLE_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
RESOURCE_TYPE = re.compile(r"[a-z][a-z0-9_.\-]{0,63}")
MAX_PERMISSION_LENGTH = 128
MAX_RULES = 500
_UNSET: Any = object()


class RoleFull(Conflict):
    code = "role_full"


class SystemRole(Conflict):
    code = "system_role"


class LastAdmin(Conflict):
    code = "last_admin"


# --- validation ---------------------------------------------------------------------------------


def _invalid(where: str, message: str, code: str = "invalid") -> ValidationFailed:
    return ValidationFailed(message, errors=[field_error(where, message, code)])


def permission_validate(permission: Any, *, where: str = "permission", concrete=False) -> str:
    """`resource:action` (`resource:*`, `*:*` unless `concrete`); 422 otherwise."""
    try:
        if not isinstance(permission, str) or len(permission) > MAX_PERMISSION_LENGTH:
            raise PolicyError(f"a permission is a string of at most {MAX_PERMISSION_LENGTH} chars")
        validate_permission(permission)
        if concrete and "*" in permission:
            raise PolicyError("wildcards are not allowed here")
    except PolicyError as exc:
        raise _invalid(where, f"Invalid permission: {exc.detail}", "invalid_permission") from None
    return permission


def rules_validate(rules: Any, *, where: str = "rules") -> list[dict[str, Any]]:
    """Validated rules in their stored form; 422 naming the rule and what is wrong with it.

    Checks the effect, the permission syntax (engine), the scope, the condition (compiled by the
    engine: an unknown operator is named with its location) and the field rules.
    """
    if not isinstance(rules, list | tuple):
        raise _invalid(where, "Rules must be a list.")
    if len(rules) > MAX_RULES:
        raise _invalid(where, f"At most {MAX_RULES} rules.", "too_long")
    validated = []
    for i, rule in enumerate(rules):
        at = f"{where}[{i}]"
        try:
            spec = rule_from_json(rule)
        except ConditionError as exc:
            message = exc.detail.removeprefix("rule: ")
            raise ValidationFailed(
                f"Invalid condition in {at}: {message}",
                errors=[field_error(f"{at}.condition", message, "invalid_condition")],
            ) from None
        except PolicyError as exc:
            message = exc.detail.removeprefix("rule: ")
            raise ValidationFailed(
                f"Invalid rule {at}: {message}",
                errors=[field_error(f"{at}.{exc.field or 'rule'}", message, exc.code)],
            ) from None
        permission_validate(spec.permission, where=f"{at}.permission")
        validated.append(rule_as_dict(spec))
    return validated


def rule_as_dict(spec: RuleSpec) -> dict[str, Any]:
    """A rule's stored (and API) form."""
    return {
        "effect": spec.effect,
        "permission": spec.permission,
        "scope": spec.scope,
        "condition": dict(spec.condition) if spec.condition is not None else None,
        "fields": {n: {"read": a.read, "write": a.write} for n, a in spec.fields.items()},
    }


def _rule_rows(model, rules: Sequence[Mapping[str, Any]], **owner) -> list:
    return [
        model(
            position=i,
            effect=rule["effect"],
            permission=rule["permission"],
            scope=rule["scope"],
            condition=rule.get("condition"),
            fields=rule.get("fields") or {},
            **owner,
        )
        for i, rule in enumerate(rules)
    ]


def _stored_rules(rows) -> list[dict[str, Any]]:
    return [
        {
            "effect": r.effect,
            "permission": r.permission,
            "scope": r.scope,
            "condition": r.condition,
            "fields": r.fields or {},
        }
        for r in rows
    ]


def parents_validate(*, tenant: Tenant, slugs: Iterable[str], role: Role | None = None) -> list:
    """The parent roles named by `slugs`; 422 for an unknown slug or an inheritance cycle."""
    slugs = list(dict.fromkeys(slugs or ()))
    parents = list(Role.objects.filter(tenant=tenant, slug__in=slugs))
    unknown = sorted(set(slugs) - {p.slug for p in parents})
    if unknown:
        raise _invalid("parents", f"Unknown role(s): {', '.join(unknown)}.", "not_found")
    if role is None:
        return parents
    graph: dict[str, list[str]] = {}
    edges = Role.parents.through.objects.filter(from_role__tenant=tenant).values_list(
        "from_role__slug", "to_role__slug"
    )
    for child, parent in edges:
        graph.setdefault(child, []).append(parent)
    graph[role.slug] = slugs
    cycle = find_role_cycle(graph)
    if cycle is not None:
        raise _invalid(
            "parents",
            f"These parents would form an inheritance cycle: {' > '.join(cycle)}.",
            "cycle",
        )
    return parents


def _future(moment: datetime | None, where: str, now: datetime) -> None:
    if moment is None:
        return
    if moment.tzinfo is None:
        raise _invalid(where, "Give a timezone-aware time.")
    if moment <= now:
        raise _invalid(where, "Must be in the future.")


def _same_tenant(tenant_id, *objects) -> None:
    for obj in objects:
        if obj is not None and obj.tenant_id != tenant_id:
            raise NotFound("Not found")


# --- guard rails --------------------------------------------------------------------------------


def _active_admins(tenant_id, now: datetime):
    holding = RoleAssignment.objects.filter(
        role__tenant_id=tenant_id, role__slug=ADMIN_ROLE, role__is_system=True
    ).filter(_live(now))
    return Membership.objects.filter(
        tenant_id=tenant_id,
        status=MembershipStatus.ACTIVE,
        user__is_active=True,
        pk__in=holding.values("membership_id"),
    )


def is_admin(membership: Membership, *, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return _active_admins(membership.tenant_id, now).filter(pk=membership.pk).exists()


def ensure_not_last_admin(*, membership: Membership, now: datetime | None = None) -> None:
    """409 `last_admin` when `membership` is the tenant's only active administrator.

    Call it inside the transaction that removes, suspends or demotes the member: it locks the
    tenant's admin role row, so two concurrent removals of the last two admins cannot both pass.
    """
    now = now or timezone.now()
    with transaction.atomic():
        list(
            Role.objects.select_for_update().filter(
                tenant_id=membership.tenant_id, slug=ADMIN_ROLE, is_system=True
            )
        )
        admins = set(_active_admins(membership.tenant_id, now).values_list("pk", flat=True))
    if membership.pk in admins and len(admins) == 1:
        raise LastAdmin("The tenant's last active administrator cannot be removed or demoted")


# --- roles --------------------------------------------------------------------------------------


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


def role_assign_system(*, membership: Membership, slug: str) -> RoleAssignment:
    """Give a member one of the tenant's roles without the guard rails (bootstrap, CLI)."""
    role = Role.objects.get(tenant_id=membership.tenant_id, slug=slug)
    with transaction.atomic():
        assignment, created = RoleAssignment.objects.get_or_create(membership=membership, role=role)
        if created:
            membership_version_bump(membership_id=membership.pk)
    return assignment


def role_rules(role: Role) -> list[dict[str, Any]]:
    return _stored_rules(role.rules.order_by("position", "id"))


def role_effective_rules(role: Role) -> list[dict[str, Any]]:
    """The role's rules and those inherited from its ancestors."""
    seen, stack, order = set(), [role], []
    while stack:
        current = stack.pop(0)
        if current.pk in seen:
            continue
        seen.add(current.pk)
        order.append(current.pk)
        stack.extend(current.parents.all())
    rows = RoleRule.objects.filter(role_id__in=order).order_by("position", "id")
    by_role: dict[Any, list] = {}
    for row in rows:
        by_role.setdefault(row.role_id, []).append(row)
    return [rule for pk in order for rule in _stored_rules(by_role.get(pk, ()))]


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


def _live(now: datetime) -> Q:
    return Q(expires_at__isnull=True) | Q(expires_at__gt=now)


def role_assign(
    *,
    membership: Membership,
    role: Role,
    expires_at: datetime | None = None,
    granted_by: Membership | None = None,
    actor: Actor | None = None,
) -> RoleAssignment:
    """Give `membership` the role (optionally until `expires_at`).

    `max_members` holds under concurrent assignment: the role row is locked while counting.
    With `granted_by`, that member must hold everything the role allows for as long as it is
    given (403 `not_held`), and, when assigning to someone else, hold at least what that member
    already holds (403 `target_outranks_you`). Assigning a role already held only updates its
    expiry.
    """
    now = timezone.now()
    _same_tenant(membership.tenant_id, role, granted_by)
    _future(expires_at, "expires_at", now)
    if granted_by is not None:
        held = held_rules(granted_by, now=now)
        ensure_actor_holds(
            granted_by, role_effective_rules(role), until=expires_at, now=now, held=held
        )
        ensure_target_within(granted_by, membership, now=now, held=held)
    with transaction.atomic():
        locked = Role.objects.select_for_update().get(pk=role.pk)
        existing = RoleAssignment.objects.filter(membership=membership, role=locked).first()
        if existing is not None:
            if existing.expires_at == expires_at:
                return existing
            if existing.expires_at is not None and existing.expires_at <= now:
                existing.delete()  # an expired assignment counts as a new one
                existing = None
        if existing is None and locked.max_members is not None:
            holders = RoleAssignment.objects.filter(role=locked).filter(_live(now)).count()
            if holders >= locked.max_members:
                raise RoleFull(
                    f"The role {locked.slug!r} already has its maximum of "
                    f"{locked.max_members} member(s)"
                )
        if existing is None:
            assignment = RoleAssignment.objects.create(
                membership=membership, role=locked, granted_by=granted_by, expires_at=expires_at
            )
        else:
            assignment = existing
            assignment.expires_at = expires_at
            assignment.save(update_fields=["expires_at"])
        membership_version_bump(membership_id=membership.pk)
        audit_record(
            type=AuditEventType.ROLE_ASSIGNED,
            actor=actor,
            tenant_id=membership.tenant_id,
            resource_type="membership",
            resource_id=membership.pk,
            changes={
                "role": locked.slug,
                "user_id": str(membership.user_id),
                "expires_at": expires_at.isoformat() if expires_at else None,
            },
        )
    return assignment


def role_unassign(
    *,
    membership: Membership,
    role: Role,
    by: Membership | None = None,
    actor: Actor | None = None,
) -> None:
    """Take the role away (404 when not held). The last active admin keeps `admin` (409).
    The member's active delegations of this role end with it. With `by`, that member must hold
    what the role allows and what the member holds (403, as `role_assign`), and what the member
    holds without the role (a role may carry denies: giving one up, even one's own, must not
    widen anyone beyond `by`)."""
    _same_tenant(membership.tenant_id, role, by)
    if by is not None:
        ensure_actor_holds(by, role_effective_rules(role))
        ensure_target_within(by, membership)
        ensure_change_within(
            by,
            membership,
            drop=lambda rule: (
                rule.source.kind == "role"
                and rule.source.via == "assignment"
                and rule.source.path[:1] == (role.slug,)
            ),
        )
    with transaction.atomic():
        locked = Role.objects.select_for_update().get(pk=role.pk)
        assignment = RoleAssignment.objects.filter(membership=membership, role=locked).first()
        if assignment is None:
            raise NotFound(f"The member does not hold {role.slug!r}")
        if locked.slug == ADMIN_ROLE and locked.is_system:
            ensure_not_last_admin(membership=membership)
        assignment.delete()
        membership_version_bump(membership_id=membership.pk)
        audit_record(
            type=AuditEventType.ROLE_REMOVED,
            actor=actor,
            tenant_id=membership.tenant_id,
            resource_type="membership",
            resource_id=membership.pk,
            changes={"role": locked.slug, "user_id": str(membership.user_id)},
        )
        for delegation in Delegation.objects.filter(
            delegator=membership,
            role=locked,
            status__in=[DelegationStatus.ACTIVE, DelegationStatus.PENDING],
        ):
            _delegation_end(delegation, actor=actor, reason="delegator lost the role")


# --- overrides ----------------------------------------------------------------------------------


def _touches_admin_api(rule: Mapping[str, Any]) -> bool:
    return rule["effect"] == Effect.DENY and any(
        permission_covers(rule["permission"], p) for p in SYSTEM_PERMISSIONS
    )


def overrides_set(
    *,
    membership: Membership,
    rules: Sequence[Mapping[str, Any]],
    by: Membership | None = None,
    actor: Actor | None = None,
) -> list[dict[str, Any]]:
    """Replace the member's own allow/deny rules. With `by`, the member's rules after the change
    must lie within what `by` holds (dropping a deny is a widening: the allows it restricted
    must then be held without it — one's own overrides included), and so must their current
    rules when acting on someone else (403); the last active admin cannot be given a deny on
    Tessera's own permissions (409)."""
    validated = rules_validate(list(rules))
    _same_tenant(membership.tenant_id, by)
    if by is not None:
        ensure_target_within(by, membership)
        ensure_change_within(
            by, membership, drop=lambda rule: rule.source.kind == "override", add=validated
        )
    with transaction.atomic():
        if any(_touches_admin_api(r) for r in validated):
            ensure_not_last_admin(membership=membership)
        before = _stored_rules(membership.overrides.order_by("position", "id"))
        membership.overrides.all().delete()
        MembershipOverride.objects.bulk_create(
            _rule_rows(MembershipOverride, validated, membership=membership)
        )
        membership_version_bump(membership_id=membership.pk)
        audit_record(
            type=AuditEventType.PERMISSION_CHANGE,
            actor=actor,
            tenant_id=membership.tenant_id,
            resource_type="membership",
            resource_id=membership.pk,
            changes={"overrides": {"before": before, "after": validated}},
        )
    return validated


# --- the permission catalog ---------------------------------------------------------------------


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


# --- grants -------------------------------------------------------------------------------------


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


# --- delegations --------------------------------------------------------------------------------


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
