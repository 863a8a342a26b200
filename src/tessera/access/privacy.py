"""Access's part of a member's privacy requests: its data for an export, the ids under which the
person appears in audit events, and the deletion of its rows on erasure (`tessera.privacy`)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from tessera.access.models import Delegation, Grant, MembershipOverride, RoleAssignment
from tessera.tenancy.models import Membership
from tessera.tenancy.privacy import deleted_count, ids_of, iso_or_none, user_id_of


def _delegation(d) -> dict[str, Any]:
    return {
        "id": str(d.pk),
        "delegator_id": str(d.delegator.user_id),
        "delegate_id": str(d.delegate.user_id),
        "role": d.role.slug if d.role_id else None,
        "permissions": list(d.permissions or []),
        "starts_at": iso_or_none(d.starts_at),
        "ends_at": iso_or_none(d.ends_at),
        "reason": d.reason,
        "status": d.status,
        "created_at": iso_or_none(d.created_at),
        "revoked_at": iso_or_none(d.revoked_at),
    }


def access_export(*, membership: Membership) -> dict[str, Any]:
    """The member's roles, overrides, grants and delegations (given and received), for export."""
    m = membership
    assignments = (
        RoleAssignment.objects.filter(membership=m)
        .select_related("role", "granted_by")
        .order_by("role__slug")
    )
    grants = Grant.objects.filter(membership=m).select_related("granted_by").order_by("created_at")
    delegations = Delegation.objects.select_related("delegator", "delegate", "role").order_by(
        "created_at"
    )
    return {
        "roles": [
            {
                "slug": a.role.slug,
                "name": a.role.name,
                "expires_at": iso_or_none(a.expires_at),
                "granted_by": user_id_of(a.granted_by),
                "created_at": iso_or_none(a.created_at),
            }
            for a in assignments
        ],
        "overrides": [
            o.as_dict()
            for o in MembershipOverride.objects.filter(membership=m).order_by("position")
        ],
        "grants": [
            {
                "id": str(g.pk),
                "permission": g.permission,
                "resource_type": g.resource_type,
                "resource_id": g.resource_id,
                "expires_at": iso_or_none(g.expires_at),
                "granted_by": user_id_of(g.granted_by),
                "created_at": iso_or_none(g.created_at),
            }
            for g in grants
        ],
        "delegations": {
            "given": [_delegation(d) for d in delegations.filter(delegator=m)],
            "received": [_delegation(d) for d in delegations.filter(delegate=m)],
        },
    }


def access_footprint(*, user_id, tenant_id=None) -> dict[str, tuple[str, ...]]:
    """The ids of the person's grants and delegations (in one tenant, or in every one: None)."""
    grants = Grant.objects.filter(membership__user_id=user_id)
    delegations = Delegation.objects.filter(
        Q(delegator__user_id=user_id) | Q(delegate__user_id=user_id)
    )
    if tenant_id is not None:
        grants = grants.filter(tenant_id=tenant_id)
        delegations = delegations.filter(tenant_id=tenant_id)
    return {"grant_ids": ids_of(grants), "delegation_ids": ids_of(delegations)}


def access_data_delete(*, membership: Membership) -> dict[str, int]:
    """Delete the membership's role assignments, overrides, grants and delegations (given and
    received); call inside the erasing transaction."""
    m = membership
    return {
        "role_assignments": deleted_count(RoleAssignment.objects.filter(membership=m)),
        "overrides": deleted_count(MembershipOverride.objects.filter(membership=m)),
        "grants": deleted_count(Grant.objects.filter(membership=m)),
        "delegations": deleted_count(Delegation.objects.filter(Q(delegator=m) | Q(delegate=m))),
    }
