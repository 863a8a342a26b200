"""The compiled-policy cache: always equal to a fresh evaluation, never stale, bounded."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tessera.access.bridge import decisions, policy
from tessera.access.bridge.policy import (
    LOCAL_CACHE,
    MemberPolicy,
    PolicyLRU,
    build_member_policy,
    member_policy,
    stored_versions,
)
from tessera.access.bridge.policy_lookup import current_versions
from tessera.access.services.assignments import role_unassign
from tessera.access.services.delegations import delegation_create
from tessera.access.services.grants import grant_create
from tessera.access.services.overrides import overrides_set
from tessera.access.services.roles import role_update
from tessera.engine import Resource, decide
from tessera.errors import TesseraError
from tessera.testing import api_session_login
from tests.access.helpers import allow, ctx, give, make_role
from tests.factories import make_member, make_tenant

pytestmark = pytest.mark.django_db

ACTIONS = ("doc:read", "doc:update", "doc:delete", "user:read", "user:create", "misc:do")
PERMISSIONS = ("doc:read", "doc:update", "doc:*", "*:*", "user:read", "user:create")
_slugs = itertools.count()

rules = st.lists(
    st.fixed_dictionaries(
        {
            "effect": st.sampled_from(["allow", "deny"]),
            "permission": st.sampled_from(PERMISSIONS),
            "scope": st.sampled_from(["all", "own", "department"]),
        }
    ),
    max_size=3,
)
operations = st.one_of(
    st.tuples(st.just("rules"), st.integers(0, 2), rules),
    st.tuples(st.just("assign"), st.integers(0, 2)),
    st.tuples(st.just("unassign"), st.integers(0, 2)),
    st.tuples(st.just("override"), rules),
    st.tuples(st.just("grant"), st.sampled_from(["doc:read", "doc:delete"]), st.integers(0, 2)),
    st.tuples(st.just("role_grant"), st.integers(0, 2), st.sampled_from(["doc:update"])),
    st.tuples(st.just("parent"), st.integers(0, 2), st.integers(0, 2)),
    st.tuples(st.just("delegate"), st.integers(0, 2)),
)


def _resources(member) -> list[Resource | None]:
    return [
        None,
        Resource("doc", id="1", owner_id=str(member.user_id)),
        Resource("doc", id="2", department="qa"),
        Resource("doc", id="3", owner_id="other", department="ops"),
    ]


def _apply(op, tenant, member, lender, roles) -> None:
    kind = op[0]
    try:
        if kind == "rules":
            role_update(role=roles[op[1]], rules=op[2])
        elif kind == "assign":
            give(member, roles[op[1]])
        elif kind == "unassign":
            role_unassign(membership=member, role=roles[op[1]])
        elif kind == "override":
            overrides_set(membership=member, rules=op[1])
        elif kind == "grant":
            grant_create(
                tenant=tenant,
                membership=member,
                permission=op[1],
                resource_type="doc",
                resource_id=str(op[2]),
            )
        elif kind == "role_grant":
            grant_create(
                tenant=tenant,
                role=roles[op[1]],
                permission=op[2],
                resource_type="doc",
                resource_id="3",
            )
        elif kind == "parent":
            role_update(role=roles[op[1]], parents=[roles[op[2]].slug])
        elif kind == "delegate":
            give(lender, roles[op[1]])
            now = timezone.now()
            delegation_create(
                delegator=lender,
                delegate=member,
                role=roles[op[1]],
                starts_at=now,
                ends_at=now + timedelta(hours=1),
            )
    except TesseraError:
        pass  # refused writes (cycles, not held, ...) change nothing


def _cached_answers(member) -> list[tuple[bool, str]]:
    context = ctx()
    answers = []
    for action in ACTIONS:
        for resource in _resources(member):
            decision = decisions.check(
                membership=member, action=action, resource=resource, context=context
            )
            answers.append((decision.allowed, decision.reason))
    return answers


def _fresh_answers(member) -> list[tuple[bool, str]]:
    fresh = build_member_policy(member, *stored_versions(member))
    context = ctx()
    return [
        (d.allowed, d.reason)
        for d in (
            decide(fresh.policy, fresh.subject, action, resource, context)
            for action in ACTIONS
            for resource in _resources(member)
        )
    ]


@given(ops=st.lists(operations, min_size=1, max_size=6))
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_cached_answer_always_equals_a_fresh_evaluation(tenant, ops):
    member = make_member(tenant, roles=[], department="qa")
    lender = make_member(tenant, roles=[])
    roles = [make_role(tenant, f"r{next(_slugs)}", allow("doc:read")) for _ in range(3)]
    _cached_answers(member)  # warm every cache before the writes
    for op in ops:
        _apply(op, tenant, member, lender, roles)
        assert _cached_answers(member) == _fresh_answers(member)


def test_a_compiled_policy_is_served_from_the_shared_cache(tenant):
    member = make_member(tenant, roles=["viewer"])
    first = member_policy(member)
    policy.clear_local_cache()
    key = policy.cache_key(tenant.pk, member.pk, first.tenant_version, first.membership_version)
    assert isinstance(cache.get(policy._shared_key(key)), MemberPolicy)
    second = member_policy(member)
    assert second is not first  # unpickled (or copied) from the shared cache
    assert second.policy.version == first.policy.version
    context = ctx()
    for action in ACTIONS:
        assert (
            decide(second.policy, second.subject, action, None, context).allowed
            == decide(first.policy, first.subject, action, None, context).allowed
        )


def test_an_unreadable_shared_entry_is_a_miss(tenant):
    member = make_member(tenant, roles=["viewer"])
    tv, mv = stored_versions(member)
    key = policy.cache_key(tenant.pk, member.pk, tv, mv)
    cache.set(policy._shared_key(key), "garbage")
    assert isinstance(member_policy(member), MemberPolicy)


def test_nothing_compiled_inside_a_transaction_is_cached(tenant):
    """Versions can repeat after a rollback, so a policy compiled from uncommitted data must
    never be stored under them."""
    member = make_member(tenant, roles=["viewer"])
    with transaction.atomic():
        overrides_set(membership=member, rules=[allow("secret:read")])
        inside = member_policy(member)
        assert decide(inside.policy, inside.subject, "secret:read", None, ctx()).allowed
        assert len(LOCAL_CACHE) == 0
        transaction.set_rollback(True)
    # the same version number is now reached by a different change
    overrides_set(membership=member, rules=[])
    assert stored_versions(member) == (inside.tenant_version, inside.membership_version)
    assert not decisions.check(membership=member, action="secret:read", context=ctx()).allowed


def test_the_local_cache_is_bounded_and_keeps_one_version_per_member():
    lru = PolicyLRU(maxsize=3)
    value = object()
    lru.put(("t", "m1", 1, 1), value)
    lru.put(("t", "m1", 1, 2), value)
    assert lru.get(("t", "m1", 1, 1)) is None and len(lru) == 1
    for i in range(2, 6):
        lru.put(("t", f"m{i}", 1, 1), value)
    assert len(lru) == 3
    assert lru.get(("t", "m1", 1, 2)) is None
    assert lru.get(("t", "m5", 1, 1)) is value
    lru.clear()
    assert len(lru) == 0


def test_unknown_subjects_never_reach_the_cache(tenant, client):
    api_session_login(client, make_member(tenant, roles=["manager"]).user)
    before = len(LOCAL_CACHE)
    for i in range(5):
        r = client.post(
            "/api/v1/authz/check",
            {"action": "user:read", "subject_id": f"00000000-0000-0000-0000-00000000000{i}"},
            content_type="application/json",
            headers={"X-Tenant": "acme"},
        )
        assert r.status_code == 404
    assert len(LOCAL_CACHE) <= before + 1  # at most the caller's own policy


def test_a_check_reads_no_rules_once_warm(tenant, django_assert_max_num_queries):
    member = make_member(tenant, roles=["manager"])
    versions = current_versions(member)
    decisions.check(membership=member, action="user:read", context=ctx(), versions=versions)
    with django_assert_max_num_queries(0):
        decisions.check(membership=member, action="user:read", context=ctx(), versions=versions)


# --- two processes sharing PostgreSQL and Redis -------------------------------------------------


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_change_is_seen_at_once_by_another_process():
    assert connection.vendor == "postgresql" and django_settings.REDIS_URL
    tenant = make_tenant("xproc")
    member = make_member(tenant, roles=["viewer"])
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tessera.settings",
        "TESSERA_DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "TESSERA_REDIS_URL": django_settings.REDIS_URL,
        "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[2] / "src"), os.getcwd()]),
    }
    child = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "tests.access.decider_child"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=str(Path(__file__).parents[2]),
    )
    try:
        assert child.stdout.readline().strip() == "ready"

        def ask(action: str) -> str:
            child.stdin.write(f"{member.pk} {action}\n")
            child.stdin.flush()
            return child.stdout.readline().strip()

        assert ask("user:read") == "allowed"  # the child now holds a warm compiled policy
        assert ask("user:read") == "allowed"
        overrides_set(membership=member, rules=[{"effect": "deny", "permission": "user:read"}])
        assert ask("user:read") == "denied"
        role_update(
            role=tenant.roles.get(slug="viewer"), rules=[allow("user:read"), allow("doc:read")]
        )
        assert ask("doc:read") == "allowed"
        role_update(role=tenant.roles.get(slug="viewer"), rules=[allow("user:read")])
        assert ask("doc:read") == "denied"
    finally:
        child.stdin.close()
        child.wait(timeout=10)
        child.stdout.close()
