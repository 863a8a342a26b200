"""From the database rows to the engine's values: a member's `PolicyInput` and `Subject`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from tessera.access.models import (
    Delegation,
    DelegationStatus,
    Grant,
    MembershipOverride,
    Role,
    RoleAssignment,
    RoleRule,
)
from tessera.access.qualification_source import qualifications_of
from tessera.engine import (
    DelegatedRules,
    FieldAccess,
    GrantSpec,
    HeldRole,
    PolicyInput,
    RoleDef,
    RuleSpec,
    Subject,
)
from tessera.expiry import active_at
from tessera.tenancy.models import Membership
from tessera.tenancy.selectors import manager_chain_user_ids, team_user_ids

Window = tuple[datetime | None, datetime | None]


# --- from rows to engine values -----------------------------------------------------------------


def rule_spec(row) -> RuleSpec:
    """A stored rule (RoleRule or MembershipOverride) as the engine's `RuleSpec`."""
    fields = {
        name: FieldAccess(read=bool(flags.get("read")), write=bool(flags.get("write")))
        for name, flags in (row.fields or {}).items()
        if isinstance(flags, dict)
    }
    return RuleSpec(
        effect=row.effect,
        permission=row.permission,
        scope=row.scope,
        condition=row.condition or None,
        fields=fields,
    )


def _parents_graph(tenant_id) -> tuple[dict, dict]:
    """(role id -> slug, role id -> parent ids) of every role of the tenant (two queries)."""
    slugs = dict(Role.objects.filter(tenant_id=tenant_id).values_list("id", "slug"))
    parents: dict = {role_id: [] for role_id in slugs}
    edges = Role.parents.through.objects.filter(from_role__tenant_id=tenant_id).values_list(
        "from_role_id", "to_role_id"
    )
    for child, parent in edges:
        parents.setdefault(child, []).append(parent)
    return slugs, parents


def _ancestors(role_id, parents: dict) -> list:
    """The role and every ancestor, each once."""
    seen, stack = [], [role_id]
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.append(current)
        stack.extend(parents.get(current, ()))
    return seen


def _grant_window(windows: Iterable[Window], now: datetime) -> tuple[bool, datetime | None, list]:
    """How a role grant applies given the windows the role is held in.

    Returns (applies now-or-earlier, not_after, future starts). `GrantSpec` carries no start, so
    a grant to a role held only from a future moment is left out, and the moment is returned so
    that the compiled policy is rebuilt then (see `MemberPolicy.refresh_at`).
    """
    started = [w for w in windows if w[0] is None or w[0] <= now]
    future = [w[0] for w in windows if w[0] is not None and w[0] > now]
    if not started:
        return False, None, future
    ends = [w[1] for w in started]
    bounded = [end for end in ends if end is not None]
    return True, (max(bounded) if len(bounded) == len(ends) else None), future


def _min_time(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


@dataclass(frozen=True, slots=True)
class _Loaded:
    policy_input: PolicyInput
    refresh_at: datetime | None


def _load_policy_input(
    membership: Membership, *, version: str, now: datetime | None = None
) -> _Loaded:
    now = now or timezone.now()
    tenant_id = membership.tenant_id
    slugs, parents = _parents_graph(tenant_id)

    held: list[HeldRole] = []
    holding: dict = {}  # role id -> windows in which it is held (directly or as an ancestor)

    def hold(role_id, window: Window) -> None:
        for ancestor in _ancestors(role_id, parents):
            holding.setdefault(ancestor, []).append(window)

    assignments = (
        RoleAssignment.objects.filter(membership_id=membership.pk)
        .filter(active_at(now))
        .values_list("id", "role_id", "expires_at")
        .order_by("created_at", "id")
    )
    for assignment_id, role_id, expires_at in assignments:
        if role_id not in slugs:  # never another tenant's role
            continue
        held.append(HeldRole(slugs[role_id], "assignment", str(assignment_id), None, expires_at))
        hold(role_id, (None, expires_at))

    delegated: list[DelegatedRules] = []
    delegations = (
        Delegation.objects.filter(
            delegate_id=membership.pk,
            tenant_id=tenant_id,
            status=DelegationStatus.ACTIVE,
            ends_at__gt=now,
        )
        .values_list("id", "role_id", "permissions", "starts_at", "ends_at")
        .order_by("created_at", "id")
    )
    for delegation_id, role_id, permissions, starts_at, ends_at in delegations:
        if role_id is not None:
            if role_id in slugs:
                held.append(
                    HeldRole(slugs[role_id], "delegation", str(delegation_id), starts_at, ends_at)
                )
                hold(role_id, (starts_at, ends_at))
        elif permissions:
            rules = tuple(RuleSpec("allow", str(p)) for p in permissions)
            delegated.append(DelegatedRules(str(delegation_id), rules, starts_at, ends_at))

    roles: dict[str, RoleDef] = {}
    rules_by_role: dict = {}
    for row in RoleRule.objects.filter(role_id__in=list(holding)).order_by(
        "role_id", "position", "id"
    ):
        rules_by_role.setdefault(row.role_id, []).append(rule_spec(row))
    for role_id in holding:
        slug = slugs[role_id]
        roles[slug] = RoleDef(
            slug=slug,
            parents=tuple(slugs[p] for p in parents.get(role_id, ())),
            rules=tuple(rules_by_role.get(role_id, ())),
        )

    overrides = tuple(
        rule_spec(row)
        for row in MembershipOverride.objects.filter(membership_id=membership.pk).order_by(
            "position", "id"
        )
    )

    grants: list[GrantSpec] = []
    refresh: list[datetime] = []
    rows = (
        Grant.objects.filter(tenant_id=tenant_id)
        .filter(Q(membership_id=membership.pk) | Q(role_id__in=list(holding)))
        .filter(active_at(now))
        .values_list("id", "role_id", "permission", "resource_type", "resource_id", "expires_at")
        .order_by("created_at", "id")
    )
    for grant_id, role_id, permission, resource_type, resource_id, expires_at in rows:
        not_after = expires_at
        if role_id is not None:
            applies, role_end, future = _grant_window(holding.get(role_id, ()), now)
            refresh.extend(future)
            if not applies:
                continue
            not_after = _min_time(expires_at, role_end)
        grants.append(GrantSpec(str(grant_id), permission, resource_type, resource_id, not_after))

    policy_input = PolicyInput(
        tenant_id=str(tenant_id),
        membership_id=str(membership.pk),
        roles=roles,
        held=tuple(held),
        overrides=overrides,
        delegated=tuple(delegated),
        grants=tuple(grants),
        version=version,
    )
    return _Loaded(policy_input, min(refresh) if refresh else None)


def _version(tenant_version, membership_version) -> str:
    return f"{tenant_version}.{membership_version}"


def policy_input_for(
    membership: Membership, *, version: str | None = None, now: datetime | None = None
) -> PolicyInput:
    """Everything the engine needs for this member: held roles with their ancestors, the roles'
    rules, overrides, active delegations and grants (to the member and to roles held), with their
    time windows. `version` defaults to the stored "<tenant version>.<membership version>"."""
    if version is None:
        version = _version(membership.tenant.policy_version, membership.version)
    return _load_policy_input(membership, version=version, now=now).policy_input


def subject_for(membership: Membership, *, now: datetime | None = None) -> Subject:
    """The member as the engine sees them: organisation facts, attributes and qualification
    records (those not expired at `now`; the engine checks each record's window at decision
    time, and adding or revoking a record bumps the membership version)."""
    attributes = dict(membership.attributes or {})
    qualifications = attributes.get("qualifications")
    attributes["qualifications"] = list(qualifications) if isinstance(qualifications, list) else []
    attributes["gdpr_consented"] = membership.gdpr_consent_at is not None
    attributes.setdefault("job_title", membership.job_title)
    attributes.setdefault("cost_center", membership.cost_center)
    return Subject(
        user_id=str(membership.user_id),
        membership_id=str(membership.pk),
        tenant_id=str(membership.tenant_id),
        department=membership.department or None,
        clearance_level=int(membership.clearance_level or 0),
        manager_chain=manager_chain_user_ids(membership=membership),
        team=team_user_ids(membership=membership),
        attributes=attributes,
        qualifications=qualifications_of(membership, now=now or timezone.now()),
    )
