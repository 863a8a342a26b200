"""The policy engine in process, against a bare frozenset floor and pycasbin; compiling from the DB.

Dataset (issue 4): 100 tenants × 10 roles × 20 permissions; 10,000 users, each a member of 1–3
tenants holding 1–2 roles there. Questions: (user, tenant, action), half of them allowed.
Every engine check is `decide(policy, subject, action, None, context)` on a warm compiled policy
looked up by (user, tenant), single thread, after warm-up; the floor is `action in
sets[(user, tenant)]` over precomputed frozensets; casbin answers the same questions with its
RBAC-with-domains model (plain `Enforcer`, and `FastEnforcer` keyed by domain). Compiling one
membership's policy from the database uses a temporary SQLite database (Django, migrations, a
smaller seed).
"""

from __future__ import annotations

import gc
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime

from tessera.engine import (
    Context,
    HeldRole,
    PolicyInput,
    RoleDef,
    RuleSpec,
    Subject,
    compile_policy,
    decide,
)

NOTES = (
    "In-process checks on warm compiled policies (single thread) vs a precomputed frozenset "
    "floor and pycasbin RBAC with domains; compile = one membership from a SQLite database. "
    "Targets: ≥ 50× FastEnforcer, p50 within 3× of the floor."
)

TENANTS, ROLES, PERMS_PER_ROLE, USERS = 100, 10, 20, 10_000
RESOURCES = [f"res{i}" for i in range(30)]
VERBS = ["read", "create", "update", "delete", "approve", "export"]
SEED = 4
NOW = datetime(2025, 3, 12, 10, 0, tzinfo=UTC)

CASBIN_MODEL = """
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub, r.dom) && r.dom == p.dom && r.obj == p.obj && r.act == p.act
"""


# --- the dataset --------------------------------------------------------------------------------


def dataset(rng: random.Random):
    """(role permissions per tenant, memberships {(user, tenant): [role indexes]})."""
    universe = [f"{r}:{v}" for r in RESOURCES for v in VERBS]
    role_perms = {
        t: [rng.sample(universe, PERMS_PER_ROLE) for _ in range(ROLES)] for t in range(TENANTS)
    }
    memberships: dict[tuple[str, int], list[int]] = {}
    for u in range(USERS):
        for t in rng.sample(range(TENANTS), rng.randint(1, 3)):
            memberships[(f"u{u}", t)] = rng.sample(range(ROLES), rng.randint(1, 2))
    return universe, role_perms, memberships


def compile_all(role_perms, memberships):
    role_defs = {
        t: {
            f"role{r}": RoleDef(
                f"role{r}", (), tuple(RuleSpec("allow", p) for p in role_perms[t][r])
            )
            for r in range(ROLES)
        }
        for t in range(TENANTS)
    }
    compiled = {}
    for (user, t), held in memberships.items():
        inp = PolicyInput(
            tenant_id=f"t{t}",
            membership_id=f"{user}@t{t}",
            roles={f"role{r}": role_defs[t][f"role{r}"] for r in held},
            held=tuple(HeldRole(f"role{r}", "assignment", f"a{r}") for r in held),
            version="1.1",
        )
        subject = Subject(user_id=user, membership_id=f"{user}@t{t}", tenant_id=f"t{t}")
        compiled[(user, t)] = (compile_policy(inp), subject)
    return compiled


def questions(rng: random.Random, universe, role_perms, memberships, n: int):
    keys = list(memberships)
    asked = []
    for _ in range(n):
        user, t = rng.choice(keys)
        if rng.random() < 0.5:
            role = rng.choice(memberships[(user, t)])
            action = rng.choice(role_perms[t][role])
        else:
            action = rng.choice(universe)
        asked.append((user, t, action))
    return asked


# --- timing -------------------------------------------------------------------------------------


def timer_cost_ns() -> float:
    clock = time.perf_counter_ns
    return statistics.median(-clock() + clock() for _ in range(10_000))


def per_call(fn: Callable, asked, *, repeat: int = 1) -> list[float]:
    """Each call timed on its own (ns, the timer's own cost of ~50–100 ns included)."""
    clock = time.perf_counter_ns
    samples = []
    gc.disable()
    try:
        for _ in range(repeat):
            for q in asked:
                start = clock()
                fn(q)
                samples.append(clock() - start)
    finally:
        gc.enable()
    return samples


def throughput(fn: Callable, asked, seconds: float = 1.0) -> float:
    """Checks per second in a tight loop (no per-call timer)."""
    done, started = 0, time.perf_counter()
    while True:
        for q in asked:
            fn(q)
        done += len(asked)
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return done / elapsed


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] / 1000.0  # µs


# --- compile from the database ------------------------------------------------------------------


def django_setup() -> str:
    """Django on a temporary SQLite database (migrated), unless Django is already set up."""
    import django
    from django.conf import settings

    if not settings.configured:
        os.environ.setdefault("TESSERA_VAR_DIR", tempfile.mkdtemp(prefix="tessera-bench-"))
        os.environ.pop("TESSERA_DATABASE_URL", None)
        os.environ.pop("TESSERA_REDIS_URL", None)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tessera.settings")
        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
    return str(settings.VAR_DIR)


def compile_from_db(rng: random.Random, samples: int = 50) -> dict[str, float]:
    django_setup()
    from django.db import transaction

    from tessera.access.bridge.policy import build_member_policy, stored_versions
    from tessera.access.models import Role, RoleAssignment, RoleRule
    from tessera.identity.models import User
    from tessera.tenancy.models import Membership
    from tessera.tenancy.services import tenant_create

    slug = f"bench-{rng.randrange(10**9)}"
    universe = [f"{r}:{v}" for r in RESOURCES for v in VERBS]
    with transaction.atomic():
        tenant = tenant_create(slug=slug, name="Bench")
        roles = [
            Role.objects.create(tenant=tenant, slug=f"role{r}", name=f"Role {r}")
            for r in range(ROLES)
        ]
        RoleRule.objects.bulk_create(
            RoleRule(role=role, permission=p, position=i)
            for role in roles
            for i, p in enumerate(rng.sample(universe, PERMS_PER_ROLE))
        )
        members = []
        for i in range(samples):
            user = User.objects.create_user(f"{slug}-{i}@example.test", None)
            members.append(Membership.objects.create(tenant=tenant, user=user))
        RoleAssignment.objects.bulk_create(
            RoleAssignment(membership=m, role=role)
            for m in members
            for role in rng.sample(roles, rng.randint(1, 2))
        )
    timings = []
    for member in members:
        member = Membership.objects.select_related("tenant").get(pk=member.pk)
        versions = stored_versions(member)
        started = time.perf_counter()
        build_member_policy(member, *versions)
        timings.append((time.perf_counter() - started) * 1000)
    return {
        "compile_from_db_ms_p50": statistics.median(timings),
        "compile_from_db_ms_max": max(timings),
    }


# --- the run ------------------------------------------------------------------------------------


def casbin_enforcers(role_perms, memberships):
    import casbin

    def load(enforcer):
        enforcer.add_policies(
            [
                [f"role{r}", f"t{t}", *perm.split(":")]
                for t in range(TENANTS)
                for r in range(ROLES)
                for perm in role_perms[t][r]
            ]
        )
        enforcer.add_named_grouping_policies(
            "g",
            [[user, f"role{r}", f"t{t}"] for (user, t), held in memberships.items() for r in held],
        )
        return enforcer

    from casbin.model import FastModel, Model

    model = Model()
    model.load_model_from_text(CASBIN_MODEL)
    plain = load(casbin.Enforcer(model))
    fast_model = FastModel([1])  # the policy filtered by domain before matching
    fast_model.load_model_from_text(CASBIN_MODEL)
    fast = load(casbin.FastEnforcer(fast_model, cache_key_order=[1]))
    return plain, fast


def run(n: int = 100_000) -> dict[str, float]:
    rng = random.Random(SEED)
    universe, role_perms, memberships = dataset(rng)
    started = time.perf_counter()
    compiled = compile_all(role_perms, memberships)
    compile_seconds = time.perf_counter() - started
    floor_sets = {
        key: frozenset(p for r in held for p in role_perms[key[1]][r])
        for key, held in memberships.items()
    }
    asked = questions(rng, universe, role_perms, memberships, n)
    context = Context(now=NOW)

    def engine(q):
        policy, subject = compiled[(q[0], q[1])]
        return decide(policy, subject, q[2], None, context).allowed

    def floor(q):
        return q[2] in floor_sets[(q[0], q[1])]

    mismatches = sum(engine(q) != floor(q) for q in asked)
    assert mismatches == 0, f"engine and floor disagree on {mismatches} questions"
    per_call(engine, asked[:20_000])  # warm-up
    per_call(floor, asked[:20_000])
    engine_ns = per_call(engine, asked, repeat=2)
    floor_ns = per_call(floor, asked, repeat=2)
    engine_rate, floor_rate = throughput(engine, asked), throughput(floor, asked)
    numbers = {
        "memberships": float(len(memberships)),
        "timer_cost_ns": timer_cost_ns(),
        "compile_all_in_memory_s": compile_seconds,
        "engine_check_p50_us": pct(engine_ns, 0.50),
        "engine_check_p99_us": pct(engine_ns, 0.99),
        "engine_checks_per_s": engine_rate,
        "engine_mean_ns_untimed": 1e9 / engine_rate,
        "floor_frozenset_p50_us": pct(floor_ns, 0.50),
        "floor_frozenset_p99_us": pct(floor_ns, 0.99),
        "floor_checks_per_s": floor_rate,
        "floor_mean_ns_untimed": 1e9 / floor_rate,
    }
    numbers["engine_p50_vs_floor_x"] = (
        numbers["engine_check_p50_us"] / numbers["floor_frozenset_p50_us"]
    )
    numbers["engine_vs_floor_untimed_x"] = floor_rate / engine_rate

    plain, fast = casbin_enforcers(role_perms, memberships)
    for name, enforcer, sample in (
        ("casbin_enforcer", plain, asked[:40]),
        ("casbin_fast", fast, asked[:1000]),
    ):
        check = enforcer.enforce

        def ask(q, check=check):
            resource, verb = q[2].split(":")
            return check(q[0], f"t{q[1]}", resource, verb)

        wrong = sum(ask(q) != floor(q) for q in sample)
        assert wrong == 0, f"{name} disagrees with the floor on {wrong} questions"
        ns = per_call(ask, sample)
        numbers[f"{name}_p50_us"] = pct(ns, 0.50)
        numbers[f"{name}_p99_us"] = pct(ns, 0.99)
        numbers[f"{name}_checks_per_s"] = 1e9 / statistics.mean(ns)
        numbers[f"engine_vs_{name}_x"] = numbers[f"{name}_p50_us"] / numbers["engine_check_p50_us"]

    numbers.update(compile_from_db(rng))
    return numbers


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key}: {value:,.2f}")
