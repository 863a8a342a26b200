"""Reads of authentication data: sessions, memberships with roles, effective permissions."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from django.db.models import Q

from tessera.access.bridge.policy import member_policy
from tessera.access.selectors import role_slugs_by_membership
from tessera.authn.api_key_auth import usage_flush
from tessera.authn.models import ApiKey, Session
from tessera.engine import effective_permissions
from tessera.tenancy.models import Membership, Tenant
from tessera.tenancy.selectors import memberships_active


def sessions_live_for_user(
    *, user_id, now: datetime, limit: int, after: tuple[datetime, uuid.UUID] | None = None
) -> list[Session]:
    """The user's live sessions, newest first; keyset pagination after (created_at, id)."""
    query = Session.objects.filter(
        user_id=user_id,
        revoked_at__isnull=True,
        expires_at__gt=now,
        absolute_expires_at__gt=now,
    )
    if after is not None:
        created_at, last_id = after
        query = query.filter(
            Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=last_id)
        )
    return list(query.order_by("-created_at", "-id")[:limit])


def session_get_for_user(*, user_id, session_id) -> Session | None:
    """One of the user's own sessions (None for another user's, or an unknown id)."""
    try:
        uuid.UUID(str(session_id))
    except ValueError:
        return None
    return Session.objects.filter(pk=session_id, user_id=user_id).first()


def memberships_with_roles(
    *, user_id, now: datetime, memberships: list[Membership] | None = None
) -> list[tuple[Membership, list[str]]]:
    """The user's active memberships in active tenants, each with its role slugs (two queries;
    one when the caller has read `memberships_active` already and passes it)."""
    if memberships is None:
        memberships = memberships_active(user_id=user_id)
    slugs = role_slugs_by_membership([m.pk for m in memberships], now)
    return [(m, slugs.get(str(m.pk), [])) for m in memberships]


def membership_permissions(
    *, membership, tenant_version: int, membership_version: int, now: datetime
) -> list[str]:
    """The `resource:action` permissions the member's rules allow (conditions and scopes not
    evaluated: they depend on the resource), from the compiled policy the engine uses."""

    compiled = member_policy(membership, tenant_version, membership_version, now=now)
    allowed = {
        entry.permission
        for entry in effective_permissions(compiled.policy, now)
        if entry.effect == "allow" and entry.resource_type is None
    }
    return sorted(allowed)


def api_key_get(*, tenant: Tenant, key_id) -> ApiKey | None:
    """A live (not revoked) key of the tenant; None for another tenant's or an unknown id."""
    try:
        uuid.UUID(str(key_id))
    except ValueError:
        return None
    return ApiKey.objects.filter(pk=key_id, tenant_id=tenant.pk, revoked_at__isnull=True).first()


def api_key_list(
    *,
    tenant: Tenant,
    membership_ids: Iterable | None,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None = None,
) -> list[ApiKey]:
    """Live keys of the tenant (of these memberships only, unless None), newest first."""
    usage_flush()
    query = ApiKey.objects.filter(tenant_id=tenant.pk, revoked_at__isnull=True).select_related(
        "membership__user"
    )
    if membership_ids is not None:
        query = query.filter(membership_id__in=list(membership_ids))
    if after is not None:
        created_at, last_id = after
        query = query.filter(
            Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=last_id)
        )
    return list(query.order_by("-created_at", "-id")[:limit])


def sessions_live_count(*, now: datetime) -> int:
    """How many sessions are live (not revoked, neither idle nor absolute expiry passed)."""
    return Session.objects.filter(
        revoked_at__isnull=True, expires_at__gt=now, absolute_expires_at__gt=now
    ).count()
