"""The decision API over HTTP, with the real middleware, for the roles that matter."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tessera.access.services.grants import grant_create
from tessera.access.services.overrides import overrides_set
from tessera.testing import api_session_login
from tests.access.helpers import allow, deny, give, make_role
from tests.factories import make_member, make_tenant

pytestmark = pytest.mark.django_db

CHECK = "/api/v1/authz/check"
BATCH = "/api/v1/authz/check/batch"
EXPLAIN = "/api/v1/authz/explain"
FIELDS = "/api/v1/authz/fields"
SUBJECTS = "/api/v1/authz/subjects"


@pytest.fixture
def as_member(client, tenant):
    """`as_member(member)` logs the client in as that member of `acme`; returns a poster."""

    class Caller:
        def __init__(self, member):
            api_session_login(client, member.user)
            self.headers = {"X-Tenant": member.tenant.slug}

        def post(self, path, body):
            return client.post(path, body, content_type="application/json", headers=self.headers)

        def get(self, path, **params):
            return client.get(path, params, headers=self.headers)

    return Caller


def assert_problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    return body


def test_a_member_checks_their_own_permissions(tenant, as_member):
    me = as_member(make_member(tenant, roles=["viewer"]))
    assert me.post(CHECK, {"action": "user:read"}).json() == {"allowed": True}
    assert me.post(CHECK, {"action": "user:create"}).json() == {"allowed": False}


def test_an_action_nothing_grants_is_denied_not_refused(tenant, as_member):
    me = as_member(make_member(tenant, roles=["viewer"]))
    r = me.post(CHECK, {"action": "spaceship:launch"})
    assert r.status_code == 200 and r.json() == {"allowed": False}


@pytest.mark.parametrize(
    "action",
    ["", "user", "user:*", "*:*", "User:Read", "user:read:x", "a b:c", "x" * 300, 42, None],
)
def test_malformed_actions_answer_422(tenant, as_member, action):
    me = as_member(make_member(tenant, roles=["admin"]))
    body = assert_problem(me.post(CHECK, {"action": action}), 422)
    assert body["errors"][0]["field"].startswith("action")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"action": "doc:read", "resource": {"id": "1"}},
        {"action": "doc:read", "resource": {"type": "Bad Type"}},
        {"action": "doc:read", "resource": {"type": "doc", "attributes": []}},
        {"action": "doc:read", "context": {"ip": "not-an-ip"}},
        {"action": "doc:read", "context": {"risk_score": "high"}},
        {"action": "doc:read", "subject_id": ["x"]},
    ],
)
def test_malformed_bodies_answer_4xx_never_500(tenant, as_member, body):
    me = as_member(make_member(tenant, roles=["admin"]))
    response = me.post(CHECK, body)
    assert 400 <= response.status_code < 500
    assert response["Content-Type"] == "application/problem+json"


def test_a_malformed_json_body_is_a_400(client, tenant):
    member = make_member(tenant, roles=["admin"])
    api_session_login(client, member.user)
    r = client.post(
        CHECK, "{not json", content_type="application/json", headers={"X-Tenant": "acme"}
    )
    assert 400 <= r.status_code < 500


def test_resources_take_ids_owners_and_departments(tenant, as_member):
    role = make_role(
        tenant,
        "clerk",
        allow("doc:update", scope="own"),
        allow("doc:read", scope="department"),
    )
    member = make_member(tenant, roles=[], department="qa")
    give(member, role)
    grant_create(
        tenant=tenant,
        membership=member,
        permission="doc:delete",
        resource_type="doc",
        resource_id="7",
    )
    me = as_member(member)

    def ask(action, **resource):
        return me.post(CHECK, {"action": action, "resource": {"type": "doc", **resource}}).json()

    assert ask("doc:update", owner_id=str(member.user_id)) == {"allowed": True}
    assert ask("doc:update", owner_id="someone") == {"allowed": False}
    assert ask("doc:read", department="qa") == {"allowed": True}
    assert ask("doc:read", department="ops") == {"allowed": False}
    assert ask("doc:delete", id="7") == {"allowed": True}
    assert ask("doc:delete", id=7) == {"allowed": True}
    assert ask("doc:delete", id="8") == {"allowed": False}


def test_an_unauthenticated_check_is_401(client, tenant):
    r = client.post(CHECK, {"action": "user:read"}, content_type="application/json")
    assert_problem(r, 401)


def test_a_check_without_a_tenant_is_403(client, tenant):
    member = make_member(tenant, roles=["admin"])
    make_member(make_tenant("globex"), user=member.user)  # two tenants: a tenant-less session
    api_session_login(client, member.user)
    r = client.post(CHECK, {"action": "user:read"}, content_type="application/json")
    assert_problem(r, 403)


def test_checking_others_needs_authz_check_others(tenant, as_member):
    subject = make_member(tenant, roles=["viewer"])
    plain = as_member(make_member(tenant, roles=["member"]))
    r = plain.post(CHECK, {"action": "user:read", "subject_id": str(subject.user_id)})
    assert_problem(r, 403)
    # without the permission every other id answers 403, so membership is not revealed
    r = plain.post(CHECK, {"action": "user:read", "subject_id": "nobody"})
    assert_problem(r, 403)
    manager = as_member(make_member(tenant, roles=["manager"]))
    r = manager.post(CHECK, {"action": "user:read", "subject_id": str(subject.user_id)})
    assert r.json() == {"allowed": True}
    r = manager.post(CHECK, {"action": "user:create", "subject_id": str(subject.user_id)})
    assert r.json() == {"allowed": False}


def test_naming_oneself_needs_no_permission(tenant, as_member):
    member = make_member(tenant, roles=["viewer"])
    me = as_member(member)
    r = me.post(CHECK, {"action": "user:read", "subject_id": str(member.user_id)})
    assert r.json() == {"allowed": True}


def test_another_tenants_or_an_unknown_subject_is_404(tenant, other_tenant, as_member):
    foreigner = make_member(other_tenant, roles=["admin"])
    manager = as_member(make_member(tenant, roles=["manager"]))
    for subject_id in (str(foreigner.user_id), "00000000-0000-0000-0000-000000000000", "junk"):
        r = manager.post(CHECK, {"action": "user:read", "subject_id": subject_id})
        assert_problem(r, 404)


def test_a_suspended_subject_is_denied(tenant, as_member):
    from tessera.tenancy.services import membership_set_status

    subject = make_member(tenant, roles=["admin"])
    membership_set_status(membership=subject, status="suspended")
    manager = as_member(make_member(tenant, roles=["manager"]))
    r = manager.post(CHECK, {"action": "user:read", "subject_id": str(subject.user_id)})
    assert r.json() == {"allowed": False}


def test_a_caller_cannot_claim_mfa_for_itself_but_may_describe_others(tenant, as_member):
    role = make_role(tenant, "signer", allow("report:sign", condition={"mfa_verified": True}))
    member = make_member(tenant, roles=["manager"])
    subject = make_member(tenant, roles=[])
    give(member, role)
    give(subject, role)
    me = as_member(member)
    claim = {"action": "report:sign", "context": {"mfa_verified": True}}
    assert me.post(CHECK, claim).json() == {"allowed": False}
    about = {**claim, "subject_id": str(subject.user_id)}
    assert me.post(CHECK, about).json() == {"allowed": True}
    about["context"] = {"mfa_verified": False}
    assert me.post(CHECK, about).json() == {"allowed": False}


def test_context_attributes_reach_conditions(tenant, as_member):
    role = make_role(
        tenant, "night", allow("door:open", condition={"eq": ["context.attributes.zone", "lab"]})
    )
    member = make_member(tenant, roles=[])
    give(member, role)
    me = as_member(member)
    ok = {"action": "door:open", "context": {"attributes": {"zone": "lab"}}}
    assert me.post(CHECK, ok).json() == {"allowed": True}
    extra = {"action": "door:open", "context": {"zone": "lab"}}
    assert me.post(CHECK, extra).json() == {"allowed": True}
    assert me.post(CHECK, {"action": "door:open"}).json() == {"allowed": False}


def test_a_batch_answers_in_order(tenant, as_member):
    me = as_member(make_member(tenant, roles=["viewer"]))
    checks = [{"action": a} for a in ("user:read", "user:create", "role:read", "nothing:here")]
    r = me.post(BATCH, {"checks": checks})
    assert r.json() == {
        "results": [{"allowed": True}, {"allowed": False}, {"allowed": True}, {"allowed": False}]
    }


def test_a_batch_of_1000_is_answered_and_1001_refused(tenant, as_member):
    me = as_member(make_member(tenant, roles=["viewer"]))
    checks = [{"action": "user:read" if i % 2 else "user:create"} for i in range(1000)]
    r = me.post(BATCH, {"checks": checks})
    assert r.status_code == 200
    results = r.json()["results"]
    assert len(results) == 1000 and results[0] == {"allowed": False} and results[1]["allowed"]
    body = assert_problem(me.post(BATCH, {"checks": [*checks, {"action": "user:read"}]}), 422)
    assert body["errors"][0]["field"].startswith("checks")


def test_a_batch_with_a_bad_action_or_subject_is_refused_whole(tenant, other_tenant, as_member):
    foreigner = make_member(other_tenant, roles=[])
    me = as_member(make_member(tenant, roles=["manager"]))
    body = assert_problem(
        me.post(BATCH, {"checks": [{"action": "user:read"}, {"action": "bad"}]}), 422
    )
    assert body["errors"][0]["field"] == "checks[1].action"
    checks = [
        {"action": "user:read"},
        {"action": "user:read", "subject_id": str(foreigner.user_id)},
    ]
    assert_problem(me.post(BATCH, {"checks": checks}), 404)


def test_a_batch_mixes_subjects_when_allowed(tenant, as_member):
    viewer = make_member(tenant, roles=["viewer"])
    nobody = make_member(tenant, roles=[])
    manager = make_member(tenant, roles=["manager"])
    me = as_member(manager)
    checks = [
        {"action": "user:create"},
        {"action": "user:read", "subject_id": str(viewer.user_id)},
        {"action": "user:read", "subject_id": str(nobody.user_id)},
    ]
    assert [x["allowed"] for x in me.post(BATCH, {"checks": checks}).json()["results"]] == [
        True,
        True,
        False,
    ]
    plain = as_member(viewer)
    assert_problem(plain.post(BATCH, {"checks": checks[1:]}), 403)


def test_explain_gives_the_deciding_rule_and_the_policy_version(tenant, as_member):
    member = make_member(tenant, roles=["viewer"])
    overrides_set(membership=member, rules=[deny("user:read")])
    r = as_member(member).post(EXPLAIN, {"action": "user:read"})
    body = r.json()
    assert body["allowed"] is False
    assert body["matched"][0]["source"]["kind"] == "override"
    assert "override" in body["reason"]
    assert any(e["rule"]["source"]["kind"] == "role" for e in body["evaluated"])
    assert body["policy_version"].count(".") == 1
    assert body["subject_id"] == str(member.user_id) and body["action"] == "user:read"


def test_explain_shows_condition_results(tenant, as_member):
    role = make_role(tenant, "signer", allow("report:sign", condition={"mfa_verified": True}))
    member = make_member(tenant, roles=[])
    give(member, role)
    body = as_member(member).post(EXPLAIN, {"action": "report:sign"}).json()
    assert body["allowed"] is False
    evaluated = body["evaluated"][0]
    assert evaluated["condition"]["op"] == "mfa_verified"
    assert evaluated["condition"]["result"] is False


def test_fields_answer_readable_and_writable_sets(tenant, as_member):
    role = make_role(
        tenant,
        "clerk",
        allow("sample:read", fields={"id": {"read": True}, "status": {"read": True}}),
        allow("sample:update", fields={"status": {"read": True, "write": True}}),
    )
    member = make_member(tenant, roles=[])
    give(member, role)
    me = as_member(member)
    r = me.get(FIELDS, resource_type="sample")
    assert r.status_code == 200
    assert r.json()["readable"] == ["id", "status"]
    assert r.json()["writable"] == ["status"]
    assert me.get(FIELDS, resource_type="other").json()["readable"] == []
    assert_problem(me.get(FIELDS, resource_type="Bad Type"), 422)
    assert_problem(me.get(FIELDS), 422)


def test_fields_of_another_member(tenant, other_tenant, as_member):
    admin = make_member(tenant, roles=["admin"])
    foreigner = make_member(other_tenant, roles=["admin"])
    manager = as_member(make_member(tenant, roles=["manager"]))
    r = manager.get(FIELDS, resource_type="user", subject_id=str(admin.user_id))
    assert r.json()["readable"] == ["*"]
    assert_problem(
        manager.get(FIELDS, resource_type="user", subject_id=str(foreigner.user_id)), 404
    )


def test_access_review_lists_who_may_do_an_action(tenant, as_member):
    admin = make_member(tenant, "admin@example.test", roles=["admin"])
    manager = make_member(tenant, "manager@example.test", roles=["manager"])
    make_member(tenant, "viewer@example.test", roles=["viewer"])
    denied = make_member(tenant, "denied@example.test", roles=["manager"])
    overrides_set(membership=denied, rules=[deny("user:create")])
    scoped_role = make_role(tenant, "own-users", allow("user:create", scope="own"))
    scoped = make_member(tenant, "scoped@example.test", roles=[])
    give(scoped, scoped_role)
    me = as_member(manager)
    r = me.get(SUBJECTS, action="user:create")
    assert r.status_code == 200, r.content
    body = r.json()
    by_email = {item["email"]: item for item in body["items"]}
    assert set(by_email) == {
        "admin@example.test",
        "manager@example.test",
        "scoped@example.test",
    }
    assert by_email["admin@example.test"]["user_id"] == str(admin.user_id)
    assert by_email["admin@example.test"]["conditional"] is False
    assert by_email["scoped@example.test"]["conditional"] is True
    assert by_email["manager@example.test"]["sources"][0]["source"]["path"] == ["manager"]
    assert body["next_cursor"] is None


def test_access_review_pages_with_a_cursor(tenant, as_member):
    members = [make_member(tenant, roles=["viewer"]) for _ in range(5)]
    me = as_member(make_member(tenant, roles=["manager"]))
    seen, cursor = [], None
    for _ in range(10):
        params = {"action": "user:read", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        body = me.get(SUBJECTS, **params).json()
        seen += [item["user_id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert {str(m.user_id) for m in members} <= set(seen)
    assert len(seen) == len(set(seen)) == 6


def test_access_review_counts_grants_and_delegations(tenant, as_member):
    from tessera.access.services.delegations import delegation_create

    holder = make_member(tenant, "grant@example.test", roles=[])
    grant_create(
        tenant=tenant,
        membership=holder,
        permission="doc:sign",
        resource_type="doc",
        resource_id="1",
    )
    lender = make_member(tenant, "lender@example.test", roles=[])
    role = make_role(tenant, "signer", allow("doc:sign"))
    give(lender, role)
    borrower = make_member(tenant, "borrower@example.test", roles=[])
    now = timezone.now()
    delegation_create(
        delegator=lender, delegate=borrower, role=role, starts_at=now, ends_at=now + timedelta(1)
    )
    me = as_member(make_member(tenant, roles=["manager"]))
    items = me.get(SUBJECTS, action="doc:sign").json()["items"]
    assert {i["email"]: i["conditional"] for i in items} == {
        "grant@example.test": True,
        "lender@example.test": False,
        "borrower@example.test": False,  # in force now; its window shows in the sources
    }
    borrowed = next(i for i in items if i["email"] == "borrower@example.test")
    assert borrowed["sources"][0]["not_after"] is not None
    items = me.get(SUBJECTS, action="doc:sign", resource_type="doc", resource_id="2").json()
    assert "grant@example.test" not in {i["email"] for i in items["items"]}


def test_access_review_needs_authz_check_others_and_good_input(tenant, as_member):
    viewer = as_member(make_member(tenant, roles=["viewer"]))
    assert_problem(viewer.get(SUBJECTS, action="user:read"), 403)
    manager = as_member(make_member(tenant, roles=["manager"]))
    assert_problem(manager.get(SUBJECTS, action="user"), 422)
    assert_problem(manager.get(SUBJECTS, action="user:read", cursor="garbage!"), 422)
    assert_problem(manager.get(SUBJECTS, action="user:read", limit=1000), 422)
    assert_problem(manager.get(SUBJECTS, action="user:read", resource_type="doc"), 422)


def test_platform_admins_are_not_tenant_admins(tenant, client):
    from tests.factories import make_user

    platform = make_user("root@example.test", is_platform_admin=True)
    api_session_login(client, platform)
    r = client.post(
        CHECK,
        {"action": "user:read"},
        content_type="application/json",
        headers={"X-Tenant": "acme"},
    )
    assert_problem(r, 403)
    make_member(tenant, user=platform, roles=["viewer"])
    api_session_login(client, platform, tenant)
    r = client.post(
        CHECK,
        {"action": "user:create"},
        content_type="application/json",
        headers={"X-Tenant": "acme"},
    )
    assert r.json() == {"allowed": False}


def _bearer(client, email: str) -> dict[str, str]:
    from tests.factories import DEFAULT_PASSWORD

    r = client.post(
        "/api/v1/auth/login",
        {"email": email, "password": DEFAULT_PASSWORD, "tenant": "acme"},
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_bearer_tokens_work_and_a_revocation_holds_on_the_next_request(client, tenant):
    member = make_member(tenant, "token@example.test", roles=["manager"])
    headers = _bearer(client, "token@example.test")

    def ask(action):
        return client.post(
            CHECK, {"action": action}, content_type="application/json", headers=headers
        ).json()

    assert ask("user:create") == {"allowed": True}
    overrides_set(membership=member, rules=[deny("user:create")])
    assert ask("user:create") == {"allowed": False}
    assert ask("user:read") == {"allowed": True}
    overrides_set(membership=member, rules=[])
    assert ask("user:create") == {"allowed": True}


def test_the_decision_endpoints_are_in_the_openapi_document(client, db):
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in ("check", "check/batch", "explain", "fields", "subjects"):
        assert f"/api/v1/authz/{path}" in paths
