"""/api/v1/roles and /api/v1/permissions: the tenant's roles with their rules, and the catalog.

Editing a role cannot raise anyone above the editor: the rules written into a role, and the
rules inherited from the parents given to it, must be held by the editor (403 `not_held`).
"""

from __future__ import annotations

from typing import Any

from ninja import Router, Status

from tessera.access.bridge.guard import requires
from tessera.access.escalation import ensure_actor_holds
from tessera.access.models import Role
from tessera.access.selectors import permission_list, role_effective_rules, role_get, role_list
from tessera.access.services.permissions import permission_create
from tessera.access.services.roles import role_create, role_delete, role_update
from tessera.access.services.validation import parents_validate, rules_validate
from tessera.api.pagination import clamp_limit, decode_key_cursor, encode_cursor
from tessera.api.roles.inputs import PermissionIn, RoleIn, RolePatch
from tessera.api.roles.outputs import (
    PermissionOut,
    PermissionPage,
    RoleOut,
    RolePage,
    permission_as_dict,
    role_as_dict,
)
from tessera.api.security import principal_auth
from tessera.audit.actors import actor_from_request

roles_router = Router(tags=["roles"], auth=principal_auth)


permissions_router = Router(tags=["roles"], auth=principal_auth)


def _ensure_editor_holds(request, *, rules=None, parents=None) -> None:
    """No escalation through role editing: the editor holds the rules and the parents' rules.
    The rules are validated first (422 naming the rule), as the service will store them."""
    wanted: list[Any] = rules_validate(rules) if rules else []
    if parents:
        for parent in parents_validate(tenant=request.tenant, slugs=parents):
            wanted.extend(role_effective_rules(parent))
    if wanted:
        ensure_actor_holds(request.membership, wanted)


def _role(request, slug: str) -> Role:
    role = role_get(tenant=request.tenant, slug=slug)
    return role_list(tenant=request.tenant).get(pk=role.pk)


@roles_router.get("", response=RolePage, summary="The tenant's roles with their rules")
@requires("role:read")
def list_roles(request, limit: int = 50, cursor: str | None = None):
    qs = role_list(tenant=request.tenant)
    after = decode_key_cursor(cursor, "slug")
    if after is not None:
        qs = qs.filter(slug__gt=after)
    limit = clamp_limit(limit)
    rows = list(qs[: limit + 1])
    following = encode_cursor({"slug": rows[limit - 1].slug}) if len(rows) > limit else None
    return {"items": [role_as_dict(r) for r in rows[:limit]], "next_cursor": following}


@roles_router.post("", response={201: RoleOut}, summary="Create a role")
@requires("role:create")
def create_role(request, payload: RoleIn):
    _ensure_editor_holds(request, rules=payload.rules, parents=payload.parents)
    role = role_create(
        tenant=request.tenant,
        slug=payload.slug,
        name=payload.name,
        description=payload.description,
        parents=payload.parents,
        rules=payload.rules,
        max_members=payload.max_members,
        ui_config=payload.ui_config,
        actor=actor_from_request(request),
    )
    return Status(201, role_as_dict(_role(request, role.slug)))


@roles_router.get("/{slug}", response=RoleOut, summary="One role")
@requires("role:read")
def get_role(request, slug: str):
    return role_as_dict(_role(request, slug))


@roles_router.patch("/{slug}", response=RoleOut, summary="Change a role (rules replaced wholesale)")
@requires("role:update")
def update_role(request, slug: str, payload: RolePatch):
    role = role_get(tenant=request.tenant, slug=slug)
    changes = payload.dict(exclude_unset=True)
    for name in ("name", "description", "parents", "rules", "ui_config"):
        if name in changes and changes[name] is None:
            changes.pop(name)  # null means "leave it"; only max_members may be cleared
    _ensure_editor_holds(request, rules=changes.get("rules"), parents=changes.get("parents"))
    role_update(role=role, actor=actor_from_request(request), **changes)
    return role_as_dict(_role(request, slug))


@roles_router.delete("/{slug}", response={204: None}, summary="Delete a role (not a system role)")
@requires("role:delete")
def delete_role(request, slug: str):
    role = role_get(tenant=request.tenant, slug=slug)
    role_delete(role=role, actor=actor_from_request(request))
    return Status(204, None)


@permissions_router.get("", response=PermissionPage, summary="The permission catalog")
@requires("permission:read")
def list_permissions(request, limit: int = 200, cursor: str | None = None):
    qs = permission_list(tenant=request.tenant)
    after = decode_key_cursor(cursor, "p")
    if after is not None:
        qs = qs.filter(permission__gt=after)
    limit = clamp_limit(limit)
    rows = list(qs[: limit + 1])
    following = encode_cursor({"p": rows[limit - 1].permission}) if len(rows) > limit else None
    return {"items": [permission_as_dict(p) for p in rows[:limit]], "next_cursor": following}


@permissions_router.post("", response={201: PermissionOut}, summary="Add a tenant permission")
@requires("permission:create")
def create_permission(request, payload: PermissionIn):
    entry = permission_create(
        tenant=request.tenant,
        permission=payload.permission,
        description=payload.description,
        actor=actor_from_request(request),
    )
    return Status(201, permission_as_dict(entry))
