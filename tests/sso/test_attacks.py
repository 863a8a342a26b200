"""Every attack of issue 14, against our own loopback provider (tests.sso.provider): each is
refused with a clear problem, recorded as a failed sign-in, and leaves nothing behind."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tessera.audit.models import AuditEvent
from tessera.authn.models import Session
from tessera.identity.models import User
from tessera.sso.models import ExternalIdentity, IdentityProvider, SsoCode
from tessera.tenancy.models import Membership
from tessera.tenancy.services import membership_set_status
from tests.factories import make_member, make_tenant
from tests.sso.conftest import Flow, code_of, register
from tests.sso.provider import new_key

pytestmark = pytest.mark.django_db

ANN = {"email": "ann@acme.example", "email_verified": True}


@pytest.fixture
def idp(acme, own_idp) -> IdentityProvider:
    own_idp.users["ann"] = dict(ANN)
    return register(acme, own_idp.base)


def refused(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == code


def nothing_created() -> None:
    assert not User.objects.filter(email="ann@acme.example").exists()
    assert not ExternalIdentity.objects.exists()
    assert not Session.objects.exists()
    assert not SsoCode.objects.exists()


def last_failure(tenant) -> dict:
    event = AuditEvent.objects.filter(type="LOGIN_FAILED", tenant_id=tenant.pk).latest("seq")
    assert event.changes["method"] == "sso"
    return event.changes


def test_the_happy_path_of_our_own_provider_enforces_pkce(flow, idp, own_idp):
    back = flow.sign_in(idp, "ann", own=True)
    assert flow.exchange(code_of(back)).status_code == 200
    sent = own_idp.token_requests[-1]
    assert len(sent["code_verifier"][0]) >= 43  # the verifier of the S256 challenge
    assert "client_secret" not in sent  # the secret travels in the Authorization header


def test_a_forged_state_is_refused(flow, idp, acme):
    flow.start(idp)
    refused(
        flow.client.get("/api/v1/auth/sso/callback?code=x&state=forged"), 400, "sso_state_invalid"
    )
    assert AuditEvent.objects.filter(type="LOGIN_FAILED", changes__reason="state_unknown").exists()
    nothing_created()


def test_a_replayed_state_is_refused(flow, idp, own_idp, acme):
    started = flow.start(idp)
    location = flow.at_own(started["Location"], "ann")
    assert flow.back(location).status_code == 200
    refused(flow.back(location), 400, "sso_state_invalid")
    assert last_failure(acme)["reason"] == "state_replayed"


def test_a_state_from_another_browser_is_refused(flow, idp, own_idp, acme):
    started = flow.start(idp)
    location = flow.at_own(started["Location"], "ann")
    victim = Flow(Client())  # the link lands in someone else's browser: no binding cookie
    refused(victim.back(location), 400, "sso_state_invalid")
    assert last_failure(acme)["reason"] == "state_other_browser"
    nothing_created()


def test_an_expired_state_is_refused(flow, idp, own_idp, acme):
    started = flow.start(idp)
    location = flow.at_own(started["Location"], "ann")
    from tessera.sso.models import SsoAttempt

    SsoAttempt.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    refused(flow.back(location), 400, "sso_state_invalid")
    assert last_failure(acme)["reason"] == "state_expired"


@pytest.mark.parametrize(
    "tweak",
    [
        pytest.param({"nonce": "not-the-nonce"}, id="wrong-nonce"),
        pytest.param({"iss": "https://evil.example"}, id="another-issuer"),
        pytest.param({"aud": "another-client"}, id="another-audience"),
        pytest.param({"exp": int(time.time()) - 3600}, id="expired"),
        pytest.param({"iat": int(time.time()) + 3600}, id="issued-in-the-future"),
        pytest.param({"at_hash": "AAAAAAAAAAAAAAAAAAAAAA"}, id="wrong-at-hash"),
        pytest.param({"sub": None}, id="no-subject"),
    ],
)
def test_a_token_that_fails_validation_is_refused(flow, idp, own_idp, acme, tweak):
    own_idp.next_token = tweak
    refused(flow.sign_in(idp, "ann", own=True), 401, "sso_token_invalid")
    assert last_failure(acme)["reason"] == "sso_token_invalid"
    nothing_created()


def test_a_signature_by_an_unknown_key_is_refused(flow, idp, own_idp, acme):
    own_idp.sign_with = new_key("key-1")  # same kid, another key: a forgery
    refused(flow.sign_in(idp, "ann", own=True), 401, "sso_token_invalid")
    own_idp.sign_with = new_key("attacker")  # a kid the provider never published
    refused(flow.sign_in(idp, "ann", own=True), 401, "sso_token_invalid")
    nothing_created()


def test_a_rotated_provider_key_is_fetched_and_accepted(flow, idp, own_idp):
    assert flow.exchange(code_of(flow.sign_in(idp, "ann", own=True))).status_code == 200
    own_idp.rotate()
    # within a minute of the last fetch an unknown key id is refused without asking again
    refused(flow.sign_in(idp, "ann", own=True), 401, "sso_token_invalid")
    IdentityProvider.objects.filter(pk=idp.pk).update(
        jwks_fetched_at=timezone.now() - timedelta(minutes=2)
    )
    back = flow.sign_in(idp, "ann", own=True)
    assert back.status_code == 200, back.content
    assert IdentityProvider.objects.get(pk=idp.pk).jwks["keys"][0]["kid"] == own_idp.keys[0].kid


def test_an_email_of_an_identity_in_another_tenant_does_not_take_it_over(own_idp, acme):
    victim = make_member(acme, "boss@acme.example", roles=["admin"])
    globex = make_tenant("globex")
    evil = register(globex, own_idp.base)  # globex's own provider asserts acme's address
    own_idp.users["mallory"] = {"email": "boss@acme.example", "email_verified": True}
    refused(Flow(Client()).sign_in(evil, "mallory", own=True), 403, "sso_domain_not_verified")
    assert not ExternalIdentity.objects.filter(user=victim.user).exists()
    assert not Membership.objects.filter(tenant=globex, user=victim.user).exists()
    changes = last_failure(globex)
    assert changes["reason"] == "sso_domain_not_verified" and changes["subject"] == "mallory"


def test_an_unverified_email_does_not_link_or_provision(flow, idp, own_idp, acme):
    make_member(acme, "ann@acme.example", roles=["viewer"])
    own_idp.users["ann"] = {"email": "ann@acme.example", "email_verified": False}
    refused(flow.sign_in(idp, "ann", own=True), 403, "sso_email_not_verified")
    own_idp.users["ann"] = {"email": "ann@acme.example"}  # no claim at all: not verified either
    refused(flow.sign_in(idp, "ann", own=True), 403, "sso_email_not_verified")
    assert not ExternalIdentity.objects.exists()


def test_an_address_linked_to_another_subject_is_not_relinked(flow, idp, own_idp, acme):
    assert flow.exchange(code_of(flow.sign_in(idp, "ann", own=True))).status_code == 200
    own_idp.users["ann-2"] = dict(ANN)  # a second account at the provider with the same email
    refused(flow.sign_in(idp, "ann-2", own=True), 403, "sso_link_refused")


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/steal",
        "https://app.acme.example.evil.example/",
        "https://user@app.acme.example/x",
        "http://app.acme.example/",
        "javascript:alert(1)",
        "//evil.example/",
    ],
)
def test_return_to_a_foreign_origin_is_refused(flow, idp, target):
    refused(flow.start(idp, return_to=target), 400, "return_to_not_allowed")
    assert not flow.client.cookies.get("tessera_sso")


def test_a_provider_that_is_down_answers_502_and_creates_nothing(flow, acme, own_idp):
    down = register(acme, "http://127.0.0.1:9", name="Down")  # nothing listens on port 9
    refused(flow.start(down), 502, "sso_provider_unavailable")
    idp = register(acme, own_idp.base)
    own_idp.users["ann"] = dict(ANN)
    own_idp.token_status = 503
    refused(flow.sign_in(idp, "ann", own=True), 502, "sso_provider_unavailable")
    assert last_failure(acme)["reason"] == "sso_provider_unavailable"
    nothing_created()


def test_the_provider_refusing_the_sign_in_is_reported_with_its_error(flow, idp, acme):
    flow.start(idp)
    from tessera.sso.models import SsoAttempt

    attempt = SsoAttempt.objects.get()
    assert attempt  # the state is only known to the browser: read it from the start's URL
    started = flow.start(idp)
    state = started["Location"].split("state=")[1].split("&")[0]
    answer = flow.client.get(
        f"/api/v1/auth/sso/callback?state={state}&error=access_denied&error_description=No"
    )
    refused(answer, 400, "sso_provider_error")
    changes = last_failure(acme)
    assert changes["error"] == "access_denied" and changes["error_description"] == "No"


def test_a_disabled_provider_signs_no_one_in(flow, idp, own_idp, acme):
    started = flow.start(idp)
    location = flow.at_own(started["Location"], "ann")
    IdentityProvider.objects.filter(pk=idp.pk).update(enabled=False)
    refused(flow.back(location), 400, "sso_state_invalid")
    refused(flow.start(idp), 404, "not_found")
    nothing_created()


def test_a_suspended_member_cannot_sign_in(flow, idp, own_idp, acme):
    member = make_member(acme, "ann@acme.example", roles=["viewer"])
    membership_set_status(membership=member, status="suspended")
    refused(flow.sign_in(idp, "ann", own=True), 403, "membership_suspended")
    assert not Session.objects.exists()
    # a code issued before the suspension dies with it
    membership_set_status(membership=member, status="active")
    code = code_of(flow.sign_in(idp, "ann", own=True))
    membership_set_status(membership=member, status="suspended")
    refused(flow.exchange(code), 400, "sso_code_invalid")


def test_without_jit_a_stranger_is_not_provisioned(flow, acme, own_idp):
    idp = register(acme, own_idp.base, jit=False)
    own_idp.users["ann"] = dict(ANN)
    refused(flow.sign_in(idp, "ann", own=True), 403, "sso_not_a_member")
    nothing_created()


def test_a_code_works_once_and_only_for_60_seconds(flow, idp, own_idp):
    code = code_of(flow.sign_in(idp, "ann", own=True))
    assert flow.exchange(code).status_code == 200
    refused(flow.exchange(code), 400, "sso_code_invalid")
    late = code_of(flow.sign_in(idp, "ann", own=True))
    SsoCode.objects.filter(used_at__isnull=True).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    refused(flow.exchange(late), 400, "sso_code_invalid")
    refused(flow.exchange("made-up"), 400, "sso_code_invalid")
