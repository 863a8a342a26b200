"""The pages' foundation: who may see a page, its headers, its language, where it may send you."""

from __future__ import annotations

import pytest
from django.test import Client

from tessera.authn.flows.login import login_password
from tessera.authn.request_auth import SESSION_COOKIE, session_cookie_value
from tessera.authn.sessions import session_revoke
from tessera.security_headers import API_CSP
from tessera.web.return_to import safe_return_to
from tests.factories import DEFAULT_PASSWORD, make_member

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.web.demo_urls")]


def _signed_in(client: Client, user, tenant=None):
    outcome = login_password(
        email=user.email, password=DEFAULT_PASSWORD, tenant=tenant, purpose="web"
    )
    session = outcome.session
    client.cookies[SESSION_COOKIE] = session_cookie_value(
        session_id=session.pk,
        user_id=session.user_id,
        tenant_id=session.tenant_id,
        membership_id=session.membership_id,
    )
    return session


def test_an_anonymous_visitor_is_sent_to_sign_in_with_the_page_to_come_back_to(client):
    answer = client.get("/account/demo/?tab=keys")
    assert answer.status_code == 302
    assert answer["Location"] == "/signin/?next=%2Faccount%2Fdemo%2F%3Ftab%3Dkeys"


def test_a_signed_in_member_sees_the_page_with_their_email_and_tenant(client, tenant):
    member = make_member(tenant, "ada@acme.test")
    _signed_in(client, member.user)
    answer = client.get("/account/demo/")
    assert answer.status_code == 200
    html = answer.content.decode()
    assert "ada@acme.test in Acme" in html
    assert 'name="csrfmiddlewaretoken"' in html  # the sign-out form


def test_a_revoked_session_or_a_forged_cookie_is_signed_out(client, tenant):
    member = make_member(tenant, "ada@acme.test")
    session = _signed_in(client, member.user)
    session_revoke(session=session, reason="test")
    answer = client.get("/account/demo/")
    assert answer.status_code == 302 and answer["Location"].startswith("/signin/")
    assert answer.cookies[SESSION_COOKIE]["max-age"] == 0  # the dead cookie is deleted
    client.cookies[SESSION_COOKIE] = "forged:value"
    assert client.get("/account/demo/").status_code == 302


def test_a_suspended_membership_ends_the_page_session(client, tenant):
    from tessera.tenancy.models import MembershipStatus
    from tessera.tenancy.services import membership_set_status

    member = make_member(tenant, "ada@acme.test")
    _signed_in(client, member.user)
    membership_set_status(membership=member, status=MembershipStatus.SUSPENDED)
    assert client.get("/account/demo/").status_code == 302


def test_a_session_that_must_change_its_password_reaches_only_the_account_page(client, tenant):
    member = make_member(tenant, "ada@acme.test")
    member.user.must_change_password = True
    member.user.save(update_fields=["must_change_password"])
    _signed_in(client, member.user)
    answer = client.get("/account/demo/")
    assert answer.status_code == 302 and answer["Location"] == "/account/"
    assert client.get("/account/demo-limited/").status_code == 200


def test_pages_carry_a_strict_csp_no_store_and_refuse_framing(client, tenant):
    member = make_member(tenant, "ada@acme.test")
    _signed_in(client, member.user)
    answer = client.get("/account/demo/")
    csp = answer["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "default-src 'none'" in csp
    assert answer["Cache-Control"] == "no-store"
    assert answer["X-Frame-Options"] == "DENY"
    # the API keeps its own headers: its CSP allows nothing at all, not the page's
    assert client.get("/healthz")["Content-Security-Policy"] == API_CSP


def test_a_post_without_the_csrf_token_is_refused(tenant):
    member = make_member(tenant, "ada@acme.test")
    client = Client(enforce_csrf_checks=True)
    session = _signed_in(client, member.user)
    assert client.post("/signout/").status_code == 403
    session.refresh_from_db()
    assert session.revoked_at is None


def test_sign_out_ends_the_session_and_writes_logout(client, tenant):
    from tessera.audit.models import AuditEvent, AuditEventType

    member = make_member(tenant, "ada@acme.test")
    session = _signed_in(client, member.user)
    answer = client.post("/signout/")
    assert answer.status_code == 302 and answer["Location"] == "/signin/"
    session.refresh_from_db()
    assert session.revoked_at is not None
    assert AuditEvent.objects.filter(type=AuditEventType.LOGOUT, resource_id=session.pk).exists()
    assert client.get("/account/demo/").status_code == 302


def test_the_page_language_follows_the_browser_when_anonymous(client):
    answer = client.get("/signout/", HTTP_ACCEPT_LANGUAGE="en")
    assert answer["Content-Language"] == "en"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/account/?tab=keys", "/account/?tab=keys"),
        ("http://127.0.0.1:8000/console/", "http://127.0.0.1:8000/console/"),
        ("https://app.example.test/after", "https://app.example.test/after"),
        ("https://evil.test/", "/account/"),
        ("//evil.test/x", "/account/"),
        ("/\\evil.test", "/account/"),
        ("javascript:alert(1)", "/account/"),
        ("https://app.example.test.evil.test/", "/account/"),
        ("/a\nb", "/account/"),
        ("", "/account/"),
        (None, "/account/"),
    ],
)
def test_return_to_is_a_local_path_or_a_registered_origin(settings, target, expected):
    settings.PUBLIC_URL = "http://127.0.0.1:8000"
    settings.CORS_ORIGINS = ["https://app.example.test"]
    assert safe_return_to(target, default="/account/") == expected


def test_the_persons_language_chooses_the_page_language(client, tenant):
    member = make_member(tenant, "ada@acme.test")
    member.user.language = "de"
    member.user.save(update_fields=["language"])
    _signed_in(client, member.user)
    answer = client.get("/account/demo/", HTTP_ACCEPT_LANGUAGE="en")  # the profile wins
    assert answer["Content-Language"] == "de"
    assert "Abmelden" in answer.content.decode() and '<html lang="de"' in answer.content.decode()


def test_an_anonymous_visitor_gets_the_browsers_language_and_english_otherwise(client):
    german = client.get("/signin/", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")
    assert german["Content-Language"] == "de" and "Passwort vergessen?" in german.content.decode()
    other = client.get("/signin/", HTTP_ACCEPT_LANGUAGE="fi")
    assert other["Content-Language"] == "en" and "Forgot your password?" in other.content.decode()


def test_the_api_keeps_its_own_language(client):
    answer = client.get("/api/v1/auth/me", HTTP_ACCEPT_LANGUAGE="de")
    assert "Content-Language" not in answer
