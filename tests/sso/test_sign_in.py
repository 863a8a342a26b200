"""Signing in through a real OpenID provider on loopback (oidc-provider-mock): a working session
with the mapped roles and attributes; groups removed at the provider remove mapped roles."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tessera.access.selectors import role_get
from tessera.audit.models import AuditEvent
from tessera.authn.models import Session
from tessera.directory.groups import group_mapping_set
from tessera.identity.models import User
from tessera.sso.models import ExternalIdentity, SsoAttempt
from tessera.tenancy.models import Membership
from tests.access.helpers import allow, make_role
from tests.sso.conftest import APP, code_of, me, register, set_user

pytestmark = pytest.mark.django_db

MAPPING = {
    "email": "email",
    "first_name": "given_name",
    "last_name": "family_name",
    "department": "department|lower",
    "job_title": "title",
    "employee_id": "employee.number",
    "clearance_level": "clearance",
    "attributes.sites": "sites|split",
}


@pytest.fixture
def corporate(acme, mock_idp):
    make_role(acme, "analyst", allow("sample:read"))
    make_role(acme, "approver", allow("sample:approve"))
    group_mapping_set(
        tenant=acme,
        mapping=[
            {"group": "lab-analysts", "roles": ["analyst"]},
            {"group": "qa-approvers", "roles": ["approver"]},
        ],
    )
    return register(acme, mock_idp, claim_mapping=MAPPING, default_roles=["viewer"])


def test_the_start_sends_the_browser_to_the_provider_with_state_nonce_and_pkce(flow, corporate):
    started = flow.start(corporate, return_to=f"{APP}/done")
    assert started.status_code == 302
    url = urlsplit(started["Location"])
    query = parse_qs(url.query)
    assert url.path == "/oauth2/authorize"
    assert query["client_id"] == ["tessera-client"]
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43
    assert len(query["state"][0]) >= 40 and len(query["nonce"][0]) >= 40
    assert query["redirect_uri"] == ["http://127.0.0.1:8000/api/v1/auth/sso/callback"]
    assert "openid" in query["scope"][0].split()
    cookie = started.cookies["tessera_sso"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    attempt = SsoAttempt.objects.get()
    assert attempt.state_hash != query["state"][0]  # stored as a hash only


def test_a_first_sign_in_creates_the_member_with_mapped_roles_and_attributes(
    flow, corporate, mock_idp, acme
):
    set_user(
        mock_idp,
        "u-1001",
        email="ada@acme.example",
        email_verified=True,
        given_name="Ada",
        family_name="Lovelace",
        department="Chemistry",
        title="Lab analyst",
        employee={"number": "E-1001"},
        clearance=3,
        sites="Basel, Lyon",
        groups=["lab-analysts", "qa-approvers", "unmapped"],
    )
    back = flow.sign_in(corporate, "u-1001", return_to=f"{APP}/done?x=1")
    assert back.status_code == 302
    assert back["Location"].startswith(f"{APP}/done?x=1&code=")
    answer = flow.exchange(code_of(back))
    assert answer.status_code == 200, answer.content
    login = answer.json()
    assert login["tenant"]["slug"] == "acme"
    assert login["user"]["email"] == "ada@acme.example"
    assert login["user"]["first_name"] == "Ada"

    whoami = me(login["access_token"])
    assert whoami.status_code == 200
    body = whoami.json()
    assert sorted(body["roles"]) == ["analyst", "approver", "viewer"]
    assert "sample:approve" in body["permissions"]
    assert body["membership"]["department"] == "chemistry"
    assert body["membership"]["job_title"] == "Lab analyst"
    assert body["membership"]["employee_id"] == "E-1001"
    assert body["membership"]["clearance_level"] == 3
    membership = Membership.objects.get(pk=body["membership"]["id"])
    assert membership.attributes == {"sites": ["Basel", "Lyon"]}
    user = User.objects.get(email="ada@acme.example")
    assert user.managed_by_tenant_id == acme.pk and user.email_verified_at is not None
    assert not user.has_usable_password()
    link = ExternalIdentity.objects.get(user=user)
    assert (link.issuer, link.subject) == (mock_idp, "u-1001")
    session = Session.objects.get(pk=login["session_id"])
    assert session.auth_method == "sso" and session.membership_id == membership.pk
    types = set(AuditEvent.objects.filter(tenant_id=acme.pk).values_list("type", flat=True))
    assert {"LOGIN", "USER_CREATED", "IDENTITY_LINKED", "ROLE_ASSIGNED"} <= types
    login_event = AuditEvent.objects.get(type="LOGIN", tenant_id=acme.pk)
    assert login_event.changes["method"] == "sso"


def test_a_group_removed_at_the_provider_removes_the_mapped_role_at_the_next_sign_in(
    flow, corporate, mock_idp, acme
):
    claims = {"email": "bob@acme.example", "email_verified": True}
    set_user(mock_idp, "u-1002", **claims, groups=["lab-analysts", "qa-approvers"])
    flow.exchange(code_of(flow.sign_in(corporate, "u-1002")))
    bob = Membership.objects.get(user__email="bob@acme.example", tenant=acme)
    # a role given by hand stays whatever the provider says
    from tessera.access.services.assignments import role_assign

    role_assign(membership=bob, role=role_get(tenant=acme, slug="member"))
    set_user(mock_idp, "u-1002", **claims, groups=["lab-analysts"])
    answer = flow.exchange(code_of(flow.sign_in(corporate, "u-1002")))
    roles = me(answer.json()["access_token"]).json()["roles"]
    assert sorted(roles) == ["analyst", "member", "viewer"]
    set_user(mock_idp, "u-1002", **claims, groups=[])
    answer = flow.exchange(code_of(flow.sign_in(corporate, "u-1002")))
    assert sorted(me(answer.json()["access_token"]).json()["roles"]) == ["member", "viewer"]
    removed = AuditEvent.objects.filter(type="ROLE_REMOVED", tenant_id=acme.pk)
    assert sorted(e.changes["role"] for e in removed) == ["analyst", "approver"]


def test_a_returning_person_is_known_by_subject_not_by_a_changed_email(
    flow, corporate, mock_idp, acme
):
    set_user(mock_idp, "u-1003", email="cy@acme.example", email_verified=True)
    flow.exchange(code_of(flow.sign_in(corporate, "u-1003")))
    set_user(mock_idp, "u-1003", email="admin@acme.example", email_verified=True)
    login = flow.exchange(code_of(flow.sign_in(corporate, "u-1003"))).json()
    assert login["user"]["email"] == "cy@acme.example"


def test_without_return_to_the_callback_answers_the_code(flow, corporate, mock_idp):
    set_user(mock_idp, "u-1004", email="di@acme.example", email_verified=True)
    back = flow.sign_in(corporate, "u-1004")
    assert back.status_code == 200 and back["Cache-Control"] == "no-store"
    assert flow.exchange(back.json()["code"]).status_code == 200


def test_cookie_mode_returns_with_a_working_session_cookie(flow, corporate, mock_idp):
    set_user(mock_idp, "u-1005", email="ed@acme.example", email_verified=True)
    back = flow.sign_in(corporate, "u-1005", return_to=f"{APP}/home", mode="cookie")
    assert back.status_code == 302 and back["Location"] == f"{APP}/home"
    assert back.cookies["tessera_session"]["httponly"]
    whoami = flow.client.get("/api/v1/auth/me")
    assert whoami.status_code == 200 and whoami.json()["user"]["email"] == "ed@acme.example"


def test_an_existing_member_of_the_verified_domain_is_linked_once(
    flow, corporate, mock_idp, acme, acme_admin
):
    set_user(mock_idp, "u-admin", email="admin@acme.example", email_verified=True)
    login = flow.exchange(code_of(flow.sign_in(corporate, "u-admin"))).json()
    assert login["user"]["id"] == str(acme_admin.user_id)
    assert ExternalIdentity.objects.filter(user=acme_admin.user).count() == 1
    assert "admin" in me(login["access_token"]).json()["roles"]
