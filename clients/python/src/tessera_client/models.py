"""Typed values going in and out of the client (plain frozen dataclasses)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, from a locally verified access token.

    Verification proves the token was signed by Tessera, for this audience, and has not expired.
    It does not prove the session is still alive: a session revoked (logout, deactivation) keeps a
    locally valid token until it expires. Decisions (`check`, the `require_*` helpers) ask the
    server, which refuses a revoked session at once.

    `tenant_id` is the tenant the token acts in: an application serving several tenants
    (`any_tenant=True`) must scope every read and write by it. `roles` are the membership's role
    slugs when the token was issued (the `roles` claim; None when the token has none): as fresh as
    the token, at most its lifetime (15 minutes by default) behind a role change.
    """

    user_id: str
    tenant_id: str | None
    session_id: str | None
    token_id: str | None
    issued_at: datetime | None
    expires_at: datetime
    claims: Mapping[str, Any] = field(repr=False, compare=False)
    token: str = field(repr=False, compare=False)
    roles: tuple[str, ...] | None = None

    def has_role(self, *slugs: str) -> bool:
        """Whether the token says the caller holds one of `slugs` (False without a roles claim)."""
        return self.roles is not None and any(slug in self.roles for slug in slugs)

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any], token: str) -> Principal:
        def when(value: Any) -> datetime | None:
            if isinstance(value, int | float):
                return datetime.fromtimestamp(value, tz=UTC)
            return None

        def text(value: Any) -> str | None:
            return None if value is None else str(value)

        raw_roles = claims.get("roles")
        roles = (
            tuple(str(r) for r in raw_roles if isinstance(r, str))
            if isinstance(raw_roles, list)
            else None
        )
        expires_at = when(claims.get("exp"))
        assert expires_at is not None  # required by the verifier
        return cls(
            user_id=str(claims["sub"]),
            tenant_id=text(claims.get("tid")),
            session_id=text(claims.get("sid")),
            token_id=text(claims.get("jti")),
            issued_at=when(claims.get("iat")),
            expires_at=expires_at,
            claims=dict(claims),
            token=token,
            roles=roles,
        )


@dataclass(frozen=True, slots=True)
class Resource:
    """What a decision is about. Only `type` is required; the rest feeds scopes and conditions."""

    type: str
    id: str | None = None
    owner_id: str | None = None
    department: str | None = None
    attributes: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type}
        for name in ("id", "owner_id", "department"):
            value = getattr(self, name)
            if value is not None:
                body[name] = str(value)
        if self.attributes:
            body["attributes"] = dict(self.attributes)
        return body


@dataclass(frozen=True, slots=True)
class Check:
    """One question for `check_batch`: may the caller (or `subject_id`) do `action` on it?"""

    action: str
    resource: Resource | Mapping[str, Any] | str | None = None
    context: Mapping[str, Any] | None = None
    subject_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"action": self.action}
        resource = as_resource_dict(self.resource)
        if resource is not None:
            body["resource"] = resource
        if self.context:
            body["context"] = dict(self.context)
        if self.subject_id is not None:
            body["subject_id"] = str(self.subject_id)
        return body


def as_resource_dict(resource: Resource | Mapping[str, Any] | str | None) -> dict[str, Any] | None:
    """A resource in any accepted form as the JSON object the API takes."""
    if resource is None:
        return None
    if isinstance(resource, Resource):
        return resource.to_dict()
    if isinstance(resource, str):
        return {"type": resource}
    return dict(resource)


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer to a check. Truthy when allowed."""

    allowed: bool
    cached: bool = field(default=False, compare=False)

    def __bool__(self) -> bool:
        return self.allowed


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a decision came out as it did (as `POST /authz/explain` tells it)."""

    allowed: bool
    reason: str
    matched: tuple[Any, ...]
    evaluated: tuple[Any, ...]
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    def __bool__(self) -> bool:
        return self.allowed


@dataclass(frozen=True, slots=True)
class FieldAccess:
    """Which fields of a resource type the subject may read and write."""

    readable: frozenset[str]
    writable: frozenset[str]

    def can_read(self, name: str) -> bool:
        return name in self.readable or "*" in self.readable

    def can_write(self, name: str) -> bool:
        return name in self.writable or "*" in self.writable

    def mask(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """The record without the fields the subject may not read."""
        return {k: v for k, v in record.items() if self.can_read(k)}


@dataclass(frozen=True, slots=True)
class Me:
    """The caller as the server sees it now (`GET /auth/me`)."""

    user: Mapping[str, Any]
    tenant: Mapping[str, Any] | None
    membership: Mapping[str, Any] | None
    roles: tuple[str, ...]
    permissions: tuple[str, ...]
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def user_id(self) -> str:
        return str(self.user.get("id"))

    @property
    def tenant_id(self) -> str | None:
        return None if not self.tenant else str(self.tenant.get("id"))

    def has_role(self, *slugs: str) -> bool:
        return any(slug in self.roles for slug in slugs)
