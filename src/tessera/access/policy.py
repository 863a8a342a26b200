"""From the database to the engine: a member's `PolicyInput` and `Subject`, compiled and cached.

A compiled policy is cached under the key (tenant id, membership id, tenant policy version,
membership version): in this process (a bounded LRU) and in the Django cache (Redis when
configured; pickled). Any write that changes access bumps one of the two versions in its
transaction, so a key never names stale data; the versions themselves come from the request's one
round trip (`tessera.authn.state.access_state`) or are read when absent. The caches only hold
compiled policies: they never decide whether one is current. Expiry needs no write either:
assignments, delegations and grants reach the engine with their time windows.
See docs/decisions/0003-policy-cache.md.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import connection
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
from tessera.engine import (
    COMPILED_FORMAT,
    CompiledPolicy,
    DelegatedRules,
    FieldAccess,
    GrantSpec,
    HeldRole,
    PolicyError,
    PolicyInput,
    RoleDef,
    RuleSpec,
    Subject,
    compile_policy,
)
from tessera.tenancy.models import Membership
from tessera.tenancy.selectors import manager_chain_user_ids, team_user_ids

logger = logging.getLogger("tessera.access")

BUNDLE_FORMAT = 1
"""Bumped when the cached `MemberPolicy` shape changes (the engine's format is in the key too)."""

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
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
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
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
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


def subject_for(membership: Membership) -> Subject:
    """The member as the engine sees them: organisation facts and attributes conditions use."""
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
    )


# --- the compiled policy and its caches ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MemberPolicy:
    """What a check needs about one member at one pair of versions: the compiled policy and the
    subject. `refresh_at`: the moment something held only from then on starts to apply (a grant
    to a role delegated from a future date); the entry is rebuilt once it has passed."""

    policy: CompiledPolicy
    subject: Subject
    tenant_version: int
    membership_version: int
    refresh_at: datetime | None = None

    def fresh_at(self, now: datetime) -> bool:
        return self.refresh_at is None or now < self.refresh_at


class PolicyLRU:
    """A bounded, thread-safe, in-process map from cache key to `MemberPolicy`.

    It keeps at most one entry per (tenant, membership): storing a newer version drops the older.
    """

    def __init__(self, maxsize: int) -> None:
        self.maxsize = max(1, maxsize)
        self._data: OrderedDict[tuple, MemberPolicy] = OrderedDict()
        self._latest: dict[tuple, tuple] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple) -> MemberPolicy | None:
        with self._lock:
            found = self._data.get(key)
            if found is not None:
                self._data.move_to_end(key)
            return found

    def put(self, key: tuple, value: MemberPolicy) -> None:
        owner = key[:2]
        with self._lock:
            previous = self._latest.get(owner)
            if previous is not None and previous != key:
                self._data.pop(previous, None)
            self._data[key] = value
            self._data.move_to_end(key)
            self._latest[owner] = key
            while len(self._data) > self.maxsize:
                old_key, _ = self._data.popitem(last=False)
                if self._latest.get(old_key[:2]) == old_key:
                    del self._latest[old_key[:2]]

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._latest.clear()

    def __len__(self) -> int:
        return len(self._data)


LOCAL_CACHE = PolicyLRU(getattr(settings, "POLICY_CACHE_SIZE", 10_000))
SHARED_TTL = getattr(settings, "POLICY_CACHE_TTL", 24 * 3600)


def cache_key(tenant_id, membership_id, tenant_version: int, membership_version: int) -> tuple:
    return (str(tenant_id), str(membership_id), int(tenant_version), int(membership_version))


def _shared_key(key: tuple) -> str:
    return f"cp:{BUNDLE_FORMAT}.{COMPILED_FORMAT}:{key[0]}:{key[1]}:{key[2]}:{key[3]}"


def stored_versions(membership: Membership) -> tuple[int, int]:
    """(tenant policy version, membership version) as stored now (one indexed query)."""
    row = (
        Membership.objects.filter(pk=membership.pk)
        .values_list("tenant__policy_version", "version")
        .first()
    )
    if row is None:
        return 0, 0
    return int(row[0]), int(row[1])


def _may_store() -> bool:
    """Whether a policy compiled now may be cached: not inside a transaction, whose writes (and
    version bumps) could still roll back and let a later, different change reuse the same version
    numbers. The test runner's wrapping transactions stand in for autocommit and do not count."""
    if not connection.in_atomic_block:
        return True
    return all(getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


def build_member_policy(
    membership: Membership,
    tenant_version: int,
    membership_version: int,
    *,
    now: datetime | None = None,
) -> MemberPolicy:
    """Compile without any cache (also the reference the cache is tested against)."""
    version = _version(tenant_version, membership_version)
    loaded = _load_policy_input(membership, version=version, now=now)
    try:
        compiled = compile_policy(loaded.policy_input)
    except PolicyError:
        # stored data the engine refuses (written around the services, or by an older release):
        # fail closed — this member is denied everything until the data is fixed (which bumps a
        # version and recompiles)
        logger.exception("the policy of membership %s does not compile; denying", membership.pk)
        compiled = compile_policy(
            PolicyInput(str(membership.tenant_id), str(membership.pk), {}, version=version)
        )
    return MemberPolicy(
        policy=compiled,
        subject=subject_for(membership),
        tenant_version=tenant_version,
        membership_version=membership_version,
        refresh_at=loaded.refresh_at,
    )


def member_policy(
    membership: Membership,
    tenant_version: int | None = None,
    membership_version: int | None = None,
    *,
    now: datetime | None = None,
) -> MemberPolicy:
    """The member's compiled policy and subject at the given versions (read when absent or 0).

    `membership` must be a row loaded from the database (validated): unknown ids never reach the
    caches. In-process LRU first, then the shared cache, then compile and store in both.
    """
    if not tenant_version or not membership_version:
        tenant_version, membership_version = stored_versions(membership)
    now = now or timezone.now()
    key = cache_key(membership.tenant_id, membership.pk, tenant_version, membership_version)
    found = LOCAL_CACHE.get(key)
    if found is not None and found.fresh_at(now):
        return found
    shared = _shared_key(key)
    if found is None:
        try:
            found = cache.get(shared)
        except Exception:  # a cache entry that no longer unpickles is a miss
            logger.warning("unreadable compiled policy in the cache: %s", shared, exc_info=True)
            found = None
        if not isinstance(found, MemberPolicy):
            found = None
        if found is not None and found.fresh_at(now):
            LOCAL_CACHE.put(key, found)
            return found
    found = build_member_policy(membership, tenant_version, membership_version, now=now)
    if not _may_store():
        return found
    LOCAL_CACHE.put(key, found)
    try:
        cache.set(shared, found, SHARED_TTL)
    except Exception:  # the shared cache is an optimisation: never fail a check over it
        logger.warning("could not store a compiled policy in the cache", exc_info=True)
    return found


def compiled_policy(
    membership: Membership, tenant_version: int | None = None, membership_version: int | None = None
) -> CompiledPolicy:
    """The member's compiled policy at the given versions (read from the database when absent)."""
    return member_policy(membership, tenant_version, membership_version).policy


def clear_local_cache() -> None:
    """Empty this process's compiled-policy cache (tests, benchmarks)."""
    LOCAL_CACHE.clear()
