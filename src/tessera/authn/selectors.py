"""Reads of authentication data: sessions, memberships with roles, effective permissions."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db.models import Q

from tessera.authn.models import Session
from tessera.tenancy.models import Membership, MembershipStatus


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


def _role_slugs_by_membership(membership_ids, now: datetime) -> dict:
    from tessera.access.models import RoleAssignment

    slugs: dict[str, list[str]] = {str(mid): [] for mid in membership_ids}
    rows = (
        RoleAssignment.objects.filter(membership_id__in=list(membership_ids))
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .values_list("membership_id", "role__slug")
        .order_by("role__slug")
    )
    for membership_id, slug in rows:
        slugs[str(membership_id)].append(slug)
    return slugs


def memberships_with_roles(*, user_id, now: datetime) -> list[tuple[Membership, list[str]]]:
    """The user's active memberships in active tenants, each with its role slugs (two queries)."""
    memberships = list(
        Membership.objects.filter(
            user_id=user_id, status=MembershipStatus.ACTIVE, tenant__is_active=True
        )
        .select_related("tenant")
        .order_by("tenant__slug")
    )
    slugs = _role_slugs_by_membership([m.pk for m in memberships], now)
    return [(m, slugs.get(str(m.pk), [])) for m in memberships]


def membership_role_slugs(*, membership_id, now: datetime) -> list[str]:
    return _role_slugs_by_membership([membership_id], now).get(str(membership_id), [])


def membership_permissions(
    *, membership, tenant_version: int, membership_version: int, now: datetime
) -> list[str]:
    """The `resource:action` permissions the member's rules allow (conditions and scopes not
    evaluated: they depend on the resource), from the compiled policy the engine uses."""
    from tessera.access.policy import member_policy
    from tessera.engine import effective_permissions

    compiled = member_policy(membership, tenant_version, membership_version, now=now)
    allowed = {
        entry.permission
        for entry in effective_permissions(compiled.policy, now)
        if entry.effect == "allow" and entry.resource_type is None
    }
    return sorted(allowed)
