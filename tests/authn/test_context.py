"""Request helpers other areas use: the audit actor, the client IP, require_member, recent auth."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.utils import timezone

from tessera.access.bridge.guard import NoTenant, require_member
from tessera.audit.actors import actor_from_request
from tessera.authn.errors import ReauthenticationRequired
from tessera.authn.models import Session
from tessera.authn.request_auth import authenticate_request
from tessera.authn.sessions import session_require_recent_auth
from tessera.errors import NotAuthenticated
from tessera.request_facts import client_ip


@pytest.mark.parametrize(
    ("trusted", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "10.0.0.1"),  # no trusted proxy: the header is the client's word
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # the left entry is spoofable
        (2, "6.6.6.6, 203.0.113.9, 10.0.0.2", "203.0.113.9"),
        (2, "203.0.113.9", "10.0.0.1"),  # fewer hops than proxies: fall back
        (1, "not-an-ip", "10.0.0.1"),
        (1, "[2001:db8::1]", "2001:db8::1"),
    ],
)
def test_client_ip_honours_the_trusted_proxy_count(settings, trusted, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = trusted
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_the_actor_of_a_token_request(tokens, alice):
    request = RequestFactory().get(
        "/api/v1/auth/me",
        HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}",
        HTTP_USER_AGENT="pytest-agent",
        REMOTE_ADDR="192.0.2.7",
    )
    request.request_id = "req-abcdef12"
    request.principal = authenticate_request(request)
    actor = actor_from_request(request)
    assert actor.type == "user"
    assert str(actor.user_id) == str(alice.user_id)
    assert str(actor.membership_id) == str(alice.pk)
    assert (actor.ip, actor.user_agent, actor.request_id) == (
        "192.0.2.7",
        "pytest-agent",
        "req-abcdef12",
    )


def test_the_actor_of_an_anonymous_request(db):
    request = RequestFactory().post("/api/v1/auth/login")
    request.principal = None
    actor = actor_from_request(request)
    assert actor.user_id is None and actor.ip == "127.0.0.1"


def test_require_member(tokens):
    request = RequestFactory().get("/")
    request.principal = None
    with pytest.raises(NotAuthenticated):
        require_member(request)
    request.principal = object()
    request.membership = None
    with pytest.raises(NoTenant):
        require_member(request)
    request.membership = "the membership"
    assert require_member(request) == "the membership"


def test_the_principal_carries_what_the_policy_engine_needs(tokens, alice):
    request = RequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    principal = authenticate_request(request)
    assert principal.tenant_version >= 1 and principal.membership_version >= 1
    assert principal.risk_score == 0 and principal.mfa_verified_at is None
    assert str(principal.membership.pk) == str(alice.pk)
    assert principal.membership.status == "active"  # loaded on first use
    assert principal.tenant.slug == "acme"


def test_recent_authentication_is_ten_minutes(tokens):
    session_id = tokens["session_id"]
    session_require_recent_auth(session_id=session_id)
    Session.objects.filter(pk=session_id).update(
        password_verified_at=timezone.now() - timedelta(minutes=11)
    )
    with pytest.raises(ReauthenticationRequired):
        session_require_recent_auth(session_id=session_id)
    with pytest.raises(ReauthenticationRequired):
        session_require_recent_auth(session_id=None)
