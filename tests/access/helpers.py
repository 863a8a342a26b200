"""Builders for the access tests: contexts, rules, roles and checks in one line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils import timezone

from tessera.access.bridge import decisions
from tessera.access.models import Role
from tessera.access.services.assignments import role_assign
from tessera.access.services.roles import role_create
from tessera.engine import Context, Resource

TICK = timedelta(microseconds=1)


def ctx(now: datetime | None = None, **kw: Any) -> Context:
    return Context(now=now or timezone.now(), **kw)


def allow(permission: str, **kw: Any) -> dict[str, Any]:
    return {"effect": "allow", "permission": permission, "scope": "all", **kw}


def deny(permission: str, **kw: Any) -> dict[str, Any]:
    return {"effect": "deny", "permission": permission, "scope": "all", **kw}


def make_role(tenant, slug: str, *rules: dict, parents=(), **kw) -> Role:
    return role_create(
        tenant=tenant, slug=slug, name=slug.title(), rules=list(rules), parents=parents, **kw
    )


def give(membership, role: Role, **kw):
    return role_assign(membership=membership, role=role, **kw)


def allowed(membership, action: str, resource: Resource | None = None, **context) -> bool:
    now = context.pop("now", None)
    return decisions.check(
        membership=membership, action=action, resource=resource, context=ctx(now, **context)
    ).allowed


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)
