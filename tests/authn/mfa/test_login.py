"""Login with MFA: the challenge, verification, replay, lockout, and the engine's conditions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from tests.authn.mfa.conftest import VERIFY, code_now, login, post, problem
from tests.factories import DEFAULT_PASSWORD

from tessera.access.models import Role, RoleAssignment, RoleRule
from tessera.authn.flows import mfa as mfa_flow
from tessera.authn.models import AuthMethod, MfaChallenge, Session
from tessera.tenancy.models import Tenant


def test_login_answers_a_challenge_and_verify_finishes_it(client, enrolled, mia):
    r = login(client)
    assert r.status_code == 200
    body = r.json()
    assert body == {"mfa_required": True, "mfa_token": body["mfa_token"]}
    assert (
        not Session.objects.filter(user=mia.user, revoked_at__isnull=True)
        .exclude(auth_method=AuthMethod.PASSWORD)
        .exists()
    )

    done = post(
        client, VERIFY, {"mfa_token": body["mfa_token"], "code": code_now(enrolled.secret, 1)}
    )
    assert done.status_code == 200, done.content
    tokens = done.json()
    assert tokens["tenant"]["slug"] == "acme" and tokens["device_token"] is None
    session = Session.objects.get(pk=tokens["session_id"])
    assert session.auth_method == AuthMethod.PASSWORD_MFA
    assert session.mfa_verified_at is not None and not session.device_trusted
    me = client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert me.status_code == 200

    # the token works once
    again = post(
        client, VERIFY, {"mfa_token": body["mfa_token"], "code": code_now(enrolled.secret, 1)}
    )
    assert again.status_code == 401


def test_wrong_replayed_malformed_codes_and_dead_tokens_answer_one_401(client, enrolled):
    token = login(client).json()["mfa_token"]
    replayed = post(client, VERIFY, {"mfa_token": token, "code": code_now(enrolled.secret)})
    wrong = post(client, VERIFY, {"mfa_token": token, "code": "000000"})
    malformed = post(client, VERIFY, {"mfa_token": token, "code": "12ab"})
    unknown = post(client, VERIFY, {"mfa_token": "x" * 43, "code": code_now(enrolled.secret, 1)})
    answers = [replayed, wrong, malformed, unknown]
    assert {r.status_code for r in answers} == {401}
    assert len({str(problem(r)) for r in answers}) == 1


def test_an_expired_challenge_is_refused(client, enrolled, monkeypatch):
    token = login(client).json()["mfa_token"]
    MfaChallenge.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    r = post(client, VERIFY, {"mfa_token": token, "code": code_now(enrolled.secret, 1)})
    assert r.status_code == 401


def test_the_challenge_is_bound_to_the_client_that_signed_in(client, enrolled):
    token = login(client, REMOTE_ADDR="10.0.0.1").json()["mfa_token"]
    code = code_now(enrolled.secret, 1)
    elsewhere = post(client, VERIFY, {"mfa_token": token, "code": code}, REMOTE_ADDR="10.0.0.2")
    assert elsewhere.status_code == 401
    here = post(client, VERIFY, {"mfa_token": token, "code": code}, REMOTE_ADDR="10.0.0.1")
    assert here.status_code == 200


def test_failed_codes_count_toward_the_account_lockout(client, enrolled, acme):
    Tenant.objects.filter(pk=acme.pk).update(
        settings={**acme.settings, "lockout": {"max_failures": 3, "lockout_minutes": 15}}
    )
    token = login(client).json()["mfa_token"]
    for _ in range(2):
        assert post(client, VERIFY, {"mfa_token": token, "code": "000000"}).status_code == 401
    # a correct password does not clear the failures while the MFA step is pending
    token = login(client).json()["mfa_token"]
    assert post(client, VERIFY, {"mfa_token": token, "code": "000000"}).status_code == 401
    locked = post(client, VERIFY, {"mfa_token": token, "code": code_now(enrolled.secret, 1)})
    assert locked.status_code == 429 and int(locked["Retry-After"]) > 0
    assert login(client).status_code == 429


def test_a_challenge_dies_after_five_failures(client, enrolled, acme):
    Tenant.objects.filter(pk=acme.pk).update(
        settings={**acme.settings, "lockout": {"max_failures": 50, "lockout_minutes": 15}}
    )
    token = login(client).json()["mfa_token"]
    for _ in range(mfa_flow.MAX_CHALLENGE_FAILURES):
        post(client, VERIFY, {"mfa_token": token, "code": "000000"})
    r = post(client, VERIFY, {"mfa_token": token, "code": code_now(enrolled.secret, 1)})
    assert r.status_code == 401


def test_a_suspended_member_cannot_finish_the_login(client, enrolled, mia):
    token = login(client).json()["mfa_token"]
    mia.status = "suspended"
    mia.save(update_fields=["status"])
    r = post(client, VERIFY, {"mfa_token": token, "code": code_now(enrolled.secret, 1)})
    assert r.status_code == 401


@pytest.fixture
def guarded_role(acme, mia):
    """doc:read needs MFA, doc:sign a trusted device."""
    role = Role.objects.create(tenant=acme, slug="secure", name="Secure")
    RoleRule.objects.create(role=role, permission="doc:read", condition={"mfa_verified": True})
    RoleRule.objects.create(role=role, permission="doc:sign", condition={"trusted_device": True})
    RoleAssignment.objects.create(membership=mia, role=role)
    return role


def allowed(client, access_token, action) -> bool:
    r = post(client, "/api/v1/authz/check", {"action": action}, token=access_token)
    assert r.status_code == 200, r.content
    return r.json()["allowed"]


def test_the_engine_sees_mfa_and_device_trust_through_the_session(client, mia, guarded_role):
    plain = login(client).json()["access_token"]
    assert not allowed(client, plain, "doc:read")
    from tests.authn.mfa.conftest import enrol

    enrolled = enrol(client, plain)
    assert allowed(client, plain, "doc:read")  # confirming counts as an MFA check
    assert not allowed(client, plain, "doc:sign")
    pending = login(client).json()["mfa_token"]
    done = post(
        client,
        VERIFY,
        {"mfa_token": pending, "code": code_now(enrolled.secret, 1), "trust_device": True},
    ).json()
    assert allowed(client, done["access_token"], "doc:read")
    assert allowed(client, done["access_token"], "doc:sign")
    assert DEFAULT_PASSWORD not in str(done)
