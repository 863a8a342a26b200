"""A batch answers exactly what the same checks answer one by one, over HTTP: 1,000 checks about
twenty members (one suspended) and the caller, with roles, scopes, conditions, denies and grants."""

from __future__ import annotations

import random

import pytest

from tessera.access.services.grants import grant_create
from tessera.access.services.overrides import overrides_set
from tessera.tenancy.services import membership_set_status
from tessera.testing import api_session_login
from tests.access.helpers import allow, deny, give, make_role
from tests.factories import make_member

pytestmark = pytest.mark.django_db

ACTIONS = ["doc:read", "doc:update", "doc:delete", "user:read", "user:create", "door:open"]


@pytest.fixture
def crowd(tenant):
    clerk = make_role(
        tenant,
        "clerk",
        allow("doc:update", scope="own"),
        allow("doc:read", scope="department"),
        allow("door:open", condition={"eq": ["context.attributes.zone", "lab"]}),
        deny("doc:delete", condition={"not": {"mfa_verified": True}}),
    )
    members = []
    for i in range(20):
        member = make_member(
            tenant, f"crowd{i}@example.test", roles=["viewer"] if i % 3 else [], department="qa"
        )
        if i % 2:
            give(member, clerk)
        if i % 5 == 0:
            grant_create(
                tenant=tenant,
                membership=member,
                permission="doc:delete",
                resource_type="doc",
                resource_id=str(i),
            )
        if i % 7 == 0:
            overrides_set(membership=member, rules=[deny("user:read")])
        members.append(member)
    membership_set_status(membership=members[4], status="suspended")
    return members


def _checks(members, seed: int = 17) -> list[dict]:
    pick = random.Random(seed)
    checks = []
    for _ in range(1000):
        check: dict = {"action": pick.choice(ACTIONS)}
        who = pick.randrange(len(members) + 1)
        if who < len(members):
            check["subject_id"] = str(members[who].user_id)
        if pick.random() < 0.7:
            check["resource"] = {
                "type": "doc",
                "id": str(pick.randrange(20)),
                "owner_id": str(members[pick.randrange(len(members))].user_id),
                "department": pick.choice(["qa", "ops"]),
            }
        if pick.random() < 0.3:
            check["context"] = {
                "mfa_verified": pick.random() < 0.5,
                "attributes": {"zone": pick.choice(["lab", "hall"])},
            }
        checks.append(check)
    return checks


def test_a_batch_of_1000_equals_1000_single_checks(client, tenant, crowd):
    manager = make_member(tenant, "asker@example.test", roles=["manager"])
    api_session_login(client, manager.user)
    headers = {"X-Tenant": tenant.slug}
    checks = _checks(crowd)

    def post(path, body):
        answer = client.post(path, body, content_type="application/json", headers=headers)
        assert answer.status_code == 200, answer.content
        return answer.json()

    batch = [r["allowed"] for r in post("/api/v1/authz/check/batch", {"checks": checks})["results"]]
    singles = [post("/api/v1/authz/check", check)["allowed"] for check in checks]
    assert batch == singles
    # the crowd is varied enough to tell answers apart: both answers occur, for several subjects
    assert 100 < sum(batch) < 900
    allowed_subjects = {c.get("subject_id") for c, ok in zip(checks, batch, strict=True) if ok}
    assert len(allowed_subjects) > 5
    suspended = str(crowd[4].user_id)
    assert not any(
        ok for c, ok in zip(checks, batch, strict=True) if c.get("subject_id") == suspended
    )


def test_a_batch_names_the_first_check_whose_subject_is_no_member(client, tenant, other_tenant):
    manager = make_member(tenant, "asker@example.test", roles=["manager"])
    viewer = make_member(tenant, "seen@example.test", roles=["viewer"])
    foreigner = make_member(other_tenant, "away@example.test", roles=["viewer"])
    api_session_login(client, manager.user)
    checks = [
        {"action": "user:read"},
        {"action": "user:read", "subject_id": str(viewer.user_id).upper()},
        {"action": "user:read", "subject_id": "not-a-uuid"},
        {"action": "user:read", "subject_id": str(foreigner.user_id)},
    ]
    r = client.post(
        "/api/v1/authz/check/batch",
        {"checks": checks},
        content_type="application/json",
        headers={"X-Tenant": tenant.slug},
    )
    assert r.status_code == 404
    assert r.json()["errors"][0]["field"] == "checks[2].subject_id"
    r = client.post(
        "/api/v1/authz/check/batch",
        {"checks": checks[:2]},
        content_type="application/json",
        headers={"X-Tenant": tenant.slug},
    )
    assert r.json() == {"results": [{"allowed": True}, {"allowed": True}]}


BAD_CHECKS = [
    {"action": 5},
    {"action": "a" * 201},
    {"action": "doc:read", "resource": {"type": "Doc"}},
    {"action": "doc:read", "resource": {"type": "doc\n"}},
    {"action": "doc:read", "resource": {"id": "1"}},
    {"action": "doc:read", "resource": {"type": "doc", "id": ""}},
    {"action": "doc:read", "resource": {"type": "doc", "id": "x" * 257}},
    {"action": "doc:read", "resource": {"type": "doc", "id": 1.5}},
    {"action": "doc:read", "resource": {"type": "doc", "owner_id": "o" * 129}},
    {"action": "doc:read", "resource": {"type": "doc", "department": 7}},
    {"action": "doc:read", "resource": {"type": "doc", "attributes": []}},
    {"action": "doc:read", "context": {"ip": "not an address"}},
    {"action": "doc:read", "context": {"risk_score": 101}},
    {"action": "doc:read", "subject_id": "s" * 65},
]


@pytest.mark.parametrize("bad", BAD_CHECKS, ids=range(len(BAD_CHECKS)))
def test_a_batch_refuses_a_bad_check_as_the_single_check_does(client, tenant, bad):
    """The batch's checks follow the single check's rules (its own schema, built for speed):
    the same 422, its fields under `checks.<i>.` (an action the engine refuses is Tessera's own
    error, `checks[<i>].action`: tests/access/test_authz_api.py)."""
    member = make_member(tenant, "asker@example.test", roles=["viewer"])
    api_session_login(client, member.user)
    headers = {"X-Tenant": tenant.slug}

    def errors(path, body):
        answer = client.post(path, body, content_type="application/json", headers=headers)
        assert answer.status_code == 422, answer.content
        return [(e["field"], e["message"], e["code"]) for e in answer.json()["errors"]]

    single = errors("/api/v1/authz/check", bad)
    batch = errors("/api/v1/authz/check/batch", {"checks": [{"action": "doc:read"}, bad]})
    assert batch == [(f"checks.1.{field}", message, code) for field, message, code in single]
