"""Decisions for the API, the guard and the CLI: check, batch, explain, fields and access review.

Every function takes memberships loaded from the database (subjects are validated before
evaluation) and a `Context`. The context of a request is built by `request_context`; when a caller
asks about *another* member, the facts of the request (its IP, MFA, risk, device) describe the
caller, not the subject, so `supplied_context` starts from neutral values and takes what the
caller states. `now` always comes from the server's clock."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NewType

from django.db.models import Q
from django.utils import timezone

from tessera import metrics
from tessera.access.bridge.policy import MemberPolicy, member_policy
from tessera.access.bridge.policy_lookup import Versions, _inactive, policies_for, policy_for
from tessera.access.models import (
    Delegation,
    DelegationStatus,
    Effect,
    Grant,
    MembershipOverride,
    Role,
    RoleAssignment,
    RoleRule,
)
from tessera.engine import (
    Context,
    Decision,
    FieldSets,
    PolicyError,
    Resource,
    decide,
    effective_permissions,
    field_access,
    permission_covers,
    qualification_outcome,
    validate_permission,
)
from tessera.errors import ValidationFailed, field_error
from tessera.expiry import active_at
from tessera.request_facts import client_ip
from tessera.tenancy.models import Membership, MembershipStatus, Tenant

MAX_BATCH = 1000
MAX_REVIEW_SCAN = 2000
"""Access review: the most candidate members one page examines before answering a cursor."""

Action = NewType("Action", str)
"""A concrete `resource:action` that `parse_action` accepted."""


def parse_action(action: Any, *, where: str = "action") -> Action:
    """A concrete `resource:action` (no wildcards); 422 otherwise.

    Any syntactically valid action is accepted, also one that is not in the permission catalog:
    nothing matches it, so it is denied.
    """
    try:
        if not isinstance(action, str) or "*" in action:
            raise PolicyError("wildcards are not actions")
        validate_permission(action)
    except PolicyError:
        raise ValidationFailed(
            "Invalid action",
            errors=[
                field_error(
                    where,
                    f"Expected 'resource:action' (lower-case names, no wildcards), "
                    f"got {str(action)[:80]!r}.",
                    "invalid_action",
                )
            ],
        ) from None
    return Action(action)


def make_resource(data: Mapping[str, Any] | None) -> Resource | None:
    """A `Resource` from the API's `{type, id?, owner_id?, department?, attributes?}`."""
    if not data:
        return None

    def text(name: str) -> str | None:
        value = data.get(name)
        return None if value is None else str(value)

    return Resource(
        type=str(data["type"]),
        id=text("id"),
        owner_id=text("owner_id"),
        department=text("department"),
        attributes=dict(data.get("attributes") or {}),
    )


# --- context ------------------------------------------------------------------------------------


def request_context(request, *, now: datetime | None = None, attributes=None) -> Context:
    """The context of the request itself: time, IP, and the principal's MFA, risk and device."""
    principal = getattr(request, "principal", None)
    return Context(
        now=now or timezone.now(),
        ip=client_ip(request),
        mfa_verified=getattr(principal, "mfa_verified_at", None) is not None,
        risk_score=float(getattr(principal, "risk_score", 0) or 0),
        device_trusted=bool(getattr(principal, "device_trusted", False)),
        attributes=dict(attributes or {}),
    )


def supplied_context(
    request, supplied: Mapping[str, Any] | None, *, about_self: bool, now: datetime | None = None
) -> Context:
    """The context of a decision asked through the API.

    About oneself: the request's own facts; `supplied` adds only `attributes` (a caller cannot
    claim MFA, a trusted device, a lower risk or another IP for itself).
    About another member (needs `authz:check_others`): neutral facts — no MFA, untrusted device,
    risk 0, no IP — replaced by what the caller states in `ip`, `mfa_verified`, `risk_score`,
    `device_trusted`, `attributes`.
    """
    supplied = supplied or {}
    attributes = dict(supplied.get("attributes") or {})
    if about_self:
        return request_context(request, now=now, attributes=attributes)
    return Context(
        now=now or timezone.now(),
        ip=supplied.get("ip"),
        mfa_verified=bool(supplied.get("mfa_verified", False)),
        risk_score=float(supplied.get("risk_score") or 0),
        device_trusted=bool(supplied.get("device_trusted", False)),
        attributes=attributes,
    )


# --- decisions ----------------------------------------------------------------------------------


@metrics.decisions_timed("check")
def check(
    *,
    membership: Membership,
    action: str,
    context: Context,
    resource: Resource | None = None,
    versions: Versions | None = None,
    explain: bool = False,
) -> Decision:
    """May this member do `action` on `resource` in `context`?"""
    action = parse_action(action)
    compiled = policy_for(membership, versions, now=context.now)
    if compiled is None:
        return _inactive()
    return decide(compiled.policy, compiled.subject, action, resource, context, explain=explain)


def explain(
    *,
    membership: Membership,
    action: str,
    context: Context,
    resource: Resource | None = None,
    versions: Versions | None = None,
) -> Decision:
    """`check`, with every candidate rule evaluated and recorded."""
    return check(
        membership=membership,
        action=action,
        context=context,
        resource=resource,
        versions=versions,
        explain=True,
    )


@dataclass(frozen=True, slots=True)
class BatchItem:
    membership: Membership
    action: Action
    context: Context
    resource: Resource | None = None
    versions: Versions | None = None


@metrics.decisions_timed("batch")
def check_batch(items: Sequence[BatchItem]) -> list[Decision]:
    """Up to `MAX_BATCH` checks, in order; one policy lookup (at most one compile) per subject,
    the versions of the subjects that come without them read in one round trip.

    The actions come parsed (`Action`): the API's input schema parses each one once."""
    if len(items) > MAX_BATCH:
        raise ValidationFailed(
            "Too many checks",
            errors=[field_error("checks", f"At most {MAX_BATCH} checks per batch.", "too_long")],
        )
    policies = policies_for((i.membership, i.versions, i.context.now) for i in items)
    answers = []
    for item in items:
        compiled = policies[item.membership.pk]
        if compiled is None:
            answers.append(_inactive())
        else:
            answers.append(
                decide(compiled.policy, compiled.subject, item.action, item.resource, item.context)
            )
    return answers


_NO_FIELDS = FieldSets(frozenset(), frozenset())


def fields(
    *,
    membership: Membership,
    resource_type: str,
    context: Context,
    resource: Resource | None = None,
    versions: Versions | None = None,
) -> FieldSets:
    """Fields of `resource_type` the member may read (`<type>:read`) and write (`<type>:update`)."""
    parse_action(f"{resource_type}:read", where="resource_type")
    compiled = policy_for(membership, versions, now=context.now)
    if compiled is None:
        return _NO_FIELDS
    return field_access(
        compiled.policy, compiled.subject, resource_type, context, resource=resource
    )


# --- access review ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReviewEntry:
    """A member who may do the action: `conditional` when only scoped, conditional or
    object-level rules allow it (or a conditional deny may refuse it); `sources` are those rules."""

    membership: Membership
    conditional: bool
    sources: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class ReviewPage:
    items: list[ReviewEntry] = field(default_factory=list)
    next_cursor: str | None = None


def covering_permissions(action: str) -> tuple[str, ...]:
    """The stored permissions that cover `action`: itself, `resource:*` and `*:*`."""
    resource = action.split(":", 1)[0]
    return (action, f"{resource}:*", "*:*")


def _candidate_filter(tenant: Tenant, action: str, now: datetime, resource) -> Q:
    """Members whose stored data could allow `action` (a superset; evaluation decides)."""
    perms = covering_permissions(action)
    slugs_parents: dict = {}
    for child, parent in Role.parents.through.objects.filter(
        from_role__tenant_id=tenant.pk
    ).values_list("from_role_id", "to_role_id"):
        slugs_parents.setdefault(parent, []).append(child)
    allowing = set(
        RoleRule.objects.filter(
            role__tenant_id=tenant.pk, effect=Effect.ALLOW, permission__in=perms
        )
        .values_list("role_id", flat=True)
        .distinct()
    )
    grant_filter = Q(tenant_id=tenant.pk, permission__in=perms) & (active_at(now))
    if resource is not None:
        grant_filter &= Q(resource_type=resource.type, resource_id=resource.id)
    allowing |= set(
        Grant.objects.filter(grant_filter, role__isnull=False).values_list("role_id", flat=True)
    )
    # a role also allows through its descendants (children inherit the parents' rules)
    roles, stack = set(), list(allowing)
    while stack:
        current = stack.pop()
        if current in roles:
            continue
        roles.add(current)
        stack.extend(slugs_parents.get(current, ()))
    delegates = set()
    for delegate_id, role_id, permissions in Delegation.objects.filter(
        tenant_id=tenant.pk, status=DelegationStatus.ACTIVE, ends_at__gt=now
    ).values_list("delegate_id", "role_id", "permissions"):
        if role_id in roles or any(permission_covers(str(p), action) for p in permissions or ()):
            delegates.add(delegate_id)
    assigned = RoleAssignment.objects.filter(role_id__in=roles).filter(active_at(now))
    overrides = MembershipOverride.objects.filter(
        membership__tenant_id=tenant.pk, effect=Effect.ALLOW, permission__in=perms
    )
    granted = Grant.objects.filter(grant_filter, membership__isnull=False)
    return (
        Q(pk__in=assigned.values("membership_id"))
        | Q(pk__in=overrides.values("membership_id"))
        | Q(pk__in=granted.values("membership_id"))
        | Q(pk__in=list(delegates))
    )


def _review(
    compiled: MemberPolicy, action: str, resource, now: datetime
) -> tuple[bool, tuple[dict[str, Any], ...]] | None:
    """(conditional, allowing sources) when the member may do `action`; None otherwise.

    Conditions are not evaluated (no resource, no request), except their qualifications: a rule
    whose condition the member's records at `now` make false cannot apply and is dropped, one
    they make true counts as unconditional (`has_qualification` in "who can sign off today")."""
    subject = compiled.subject

    def settled(entry) -> bool | None:
        if entry.condition is None:
            return True
        return qualification_outcome(entry.condition, subject, now)

    allows: list[Any] = []
    denies: list[Any] = []
    for entry in effective_permissions(compiled.policy, now):
        if not permission_covers(entry.permission, action):
            continue
        if entry.resource_type is not None and resource is not None:
            if (entry.resource_type, entry.resource_id) != (resource.type, resource.id):
                continue
        if settled(entry) is False:
            continue
        (allows if entry.effect == "allow" else denies).append(entry)
    if not allows:
        return None
    denies = [d for d in denies if d.resource_type is None]

    def unconditional(entry) -> bool:
        return entry.scope == "all" and settled(entry) is True and entry.resource_type is None

    if any(unconditional(d) for d in denies):
        return None
    conditional = bool(denies) or not any(unconditional(a) for a in allows)
    return conditional, tuple(a.to_json() for a in allows)


def subjects_for(
    *,
    tenant: Tenant,
    action: str,
    resource: Resource | None = None,
    limit: int = 50,
    after: str | None = None,
    now: datetime | None = None,
) -> ReviewPage:
    """Access review: the active members who may do `action` (ordered by membership id).

    Candidates are found in SQL (members holding a role — or a descendant of one — with an
    allow rule covering the action, or an allow override, an active delegation or a grant for
    it); each candidate's compiled policy then decides. Rules are listed, not evaluated: a member
    is left out when an unconditional deny covers the action, and marked `conditional` when only
    scoped, conditional or object-level rules allow it (time windows show in `sources`). Grants
    count only for the given resource when one is given.
    """
    action = parse_action(action)
    now = now or timezone.now()
    candidates = (
        Membership.objects.filter(
            tenant=tenant, status=MembershipStatus.ACTIVE, user__is_active=True
        )
        .filter(_candidate_filter(tenant, action, now, resource))
        .select_related("user")
        .order_by("pk")
    )
    if after:
        candidates = candidates.filter(pk__gt=after)
    page = ReviewPage()
    scanned = 0
    last = None
    chunk = max(limit, 50)
    while True:
        rows = list(candidates.filter(pk__gt=last)[:chunk] if last else candidates[:chunk])
        if not rows:
            return page
        for membership in rows:
            scanned += 1
            last = membership.pk
            compiled = member_policy(membership, tenant.policy_version, membership.version, now=now)
            found = _review(compiled, action, resource, now)
            if found is not None:
                page.items.append(ReviewEntry(membership, *found))
                if len(page.items) == limit:
                    return ReviewPage(page.items, str(last))
            if scanned >= MAX_REVIEW_SCAN:
                return ReviewPage(page.items, str(last))
        if len(rows) < chunk:
            return page
