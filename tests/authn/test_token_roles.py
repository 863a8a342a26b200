"""The `roles` claim of access tokens and the RFC 6750 challenge of 401 answers."""

from __future__ import annotations

import uuid

import jwt
from tests.authn.conftest import bearer, login, me, post

from tessera.access.services.assignments import role_assign_system
from tessera.authn.tokens import ROLES_CLAIM_MAX_CHARS, access_token_issue

REFRESH = "/api/v1/auth/refresh"


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def test_the_access_token_carries_the_memberships_role_slugs(tokens):
    assert _claims(tokens["access_token"])["roles"] == ["member"]


def test_a_refresh_reissues_the_roles_as_they_are_now(client, tokens, alice):
    role_assign_system(membership=alice, slug="admin")
    assert _claims(tokens["access_token"])["roles"] == ["member"]  # as fresh as the token
    r = post(client, REFRESH, {"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 200, r.content
    assert _claims(r.json()["access_token"])["roles"] == ["admin", "member"]


def test_a_token_without_a_tenant_has_no_roles(db):
    token, _ = access_token_issue(user_id=uuid.uuid4(), session_id=uuid.uuid4(), roles=[])
    assert _claims(token)["roles"] == []


def test_too_many_roles_to_fit_leave_the_claim_out(db):
    many = [f"role-{i:04d}-" + "x" * 40 for i in range(ROLES_CLAIM_MAX_CHARS // 40)]
    token, _ = access_token_issue(
        user_id=uuid.uuid4(),
        session_id=uuid.uuid4(),
        tenant_id=uuid.uuid4(),
        membership_id=uuid.uuid4(),
        roles=many,
    )
    assert "roles" not in _claims(token)
    assert len(token) < 4096


def test_a_request_without_a_token_gets_a_challenge_without_an_error(client, alice):
    r = client.get("/api/v1/auth/me")
    assert r.status_code == 401
    assert r["WWW-Authenticate"] == 'Bearer realm="tessera"'
    r = login(client, "alice@example.test", "wrong password, definitely", tenant="acme")
    assert r.status_code == 401
    assert "error=" not in r["WWW-Authenticate"]


def test_a_bad_bearer_token_gets_error_invalid_token(client, tokens):
    r = me(client, tokens["access_token"][:-4] + "AAAA")
    assert r.status_code == 401
    assert r["WWW-Authenticate"] == 'Bearer realm="tessera", error="invalid_token"'
    r = client.get("/api/v1/auth/me", headers=bearer("tsk_not-a-key"))
    assert r.status_code == 401
    assert r["WWW-Authenticate"] == 'Bearer realm="tessera", error="invalid_token"'
