"""API keys through HTTP: creation, use, scopes, IP allowlist, expiry, revocation, visibility."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from tests.authn.api_keys.conftest import API, KEYS, bearer, call, create_key, login_token
from tests.factories import make_member

from tessera.access.models import Role, RoleAssignment, RoleRule
from tessera.access.services.assignments import role_unassign
from tessera.audit.models import AuditEvent, AuditEventType
from tessera.authn.models import ApiKey

KEY_SHAPE = re.compile(r"^tsk_([a-z0-9]{8})_[A-Za-z0-9_-]{43}$")
USERS = f"{API}/users"


def test_the_key_is_shown_once_and_only_its_hash_is_stored(client, member_token, member):
    r = create_key(client, member_token, name="deploy", scopes=["user:read"])
    assert r.status_code == 201 and r["Cache-Control"] == "no-store"
    body = r.json()
    match = KEY_SHAPE.match(body["key"])
    assert match and match.group(1) == body["prefix"]
    assert body["scopes"] == ["user:read"] and body["owner"]["user_id"] == str(member.user_id)
    row = ApiKey.objects.get(pk=body["id"])
    assert row.prefix == body["prefix"] and body["key"] not in str(row.__dict__)
    listed = client.get(KEYS, headers=bearer(member_token)).json()["items"]
    assert [k["prefix"] for k in listed] == [body["prefix"]]
    assert "key" not in listed[0] and body["key"] not in str(listed)
    event = AuditEvent.objects.get(type=AuditEventType.API_KEY_CREATED)
    assert event.resource_id == body["id"] and body["key"] not in str(event.changes)


@pytest.mark.parametrize("header", ["bearer", "x-api-key"])
def test_the_key_authenticates_within_its_scopes(client, member_key, header):
    key = member_key["key"]
    assert call(client, USERS, key, header=header).status_code == 200
    assert call(client, f"{API}/roles", key, header=header).status_code == 200
    r = call(client, f"{API}/grants", key, header=header)  # the member may, the key may not
    assert r.status_code == 403 and r.json()["code"] == "api_key_scope"


def test_scopes_the_creator_lacks_are_refused_by_name(client, member_token):
    r = create_key(client, member_token, scopes=["user:read", "role:delete", "user:*"])
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "scopes_not_held"
    assert "role:delete" in body["detail"] and "user:*" in body["detail"]
    assert {e["field"] for e in body["errors"]} == {"scopes[1]", "scopes[2]"}
    assert create_key(client, member_token, scopes=["user:read", "nonsense"]).status_code == 422
    assert create_key(client, member_token, scopes=[]).status_code == 422
    assert not ApiKey.objects.exists()


def test_losing_a_role_narrows_the_key_at_once(client, acme, member, member_token):
    role = Role.objects.create(tenant=acme, slug="auditor", name="Auditor")
    RoleRule.objects.create(role=role, permission="audit_log:read")
    RoleAssignment.objects.create(membership=member, role=role)
    key = create_key(client, member_token, scopes=["audit_log:read", "user:read"]).json()["key"]
    assert call(client, f"{API}/audit-events", key).status_code == 200

    role_unassign(membership=member, role=role)

    r = call(client, f"{API}/audit-events", key)
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"
    assert call(client, USERS, key).status_code == 200


def test_the_ip_allowlist_both_ways(client, member_token):
    key = create_key(
        client, member_token, allowed_ips=["10.1.0.0/16", "2001:db8::/32", "192.0.2.7"]
    ).json()
    assert key["allowed_ips"] == ["10.1.0.0/16", "2001:db8::/32", "192.0.2.7/32"]
    raw = key["key"]
    for inside in ("10.1.2.3", "2001:db8::1", "192.0.2.7", "::ffff:10.1.0.9"):
        assert call(client, USERS, raw, REMOTE_ADDR=inside).status_code == 200, inside
    refused = [
        call(client, USERS, raw, REMOTE_ADDR=outside)
        for outside in ("10.2.0.1", "192.0.2.8", "2001:db9::1")
    ]
    assert {r.status_code for r in refused} == {401}


def test_malformed_cidrs_are_422(client, member_token):
    r = create_key(client, member_token, allowed_ips=["10.0.0.0/8", "10.0.0.0/33", "nope"])
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["allowed_ips[1]", "allowed_ips[2]"]


def test_expiry(client, member_token, monkeypatch):
    past = (timezone.now() - timedelta(minutes=1)).isoformat()
    assert create_key(client, member_token, expires_at=past).status_code == 422
    soon = timezone.now() + timedelta(hours=1)
    key = create_key(client, member_token, expires_at=soon.isoformat()).json()["key"]
    assert call(client, USERS, key).status_code == 200
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(hours=2))
    assert call(client, USERS, key).status_code == 401


def test_bad_keys_answer_one_401(client, member_key):
    key = member_key["key"]
    prefix = member_key["prefix"]
    revoked = create_key(client, login_token(client, "member@acme.test")).json()
    ApiKey.objects.filter(pk=revoked["id"]).update(revoked_at=timezone.now())
    candidates = [
        "tsk_",
        "tsk_short",
        f"tsk_{prefix}_" + "A" * 43,  # right prefix, wrong secret
        f"tsk_{prefix.upper()}_" + key[13:],
        "tsk_zzzzzzzz_" + key[13:],
        key + "x",
        revoked["key"],
    ]
    answers = [call(client, USERS, c) for c in candidates]
    answers.append(call(client, USERS, "not-a-key", header="x-api-key"))
    assert {r.status_code for r in answers} == {401}
    bodies = {(r.json()["code"], r.json()["detail"]) for r in answers}
    assert bodies == {("invalid_api_key", "The API key is not valid.")}
    both = client.get(USERS, headers={**bearer(key), "X-API-Key": key})
    assert both.status_code == 401


def test_a_revoked_key_stops_at_once_even_when_cached(client, member_key, member_token):
    key = member_key["key"]
    assert call(client, USERS, key).status_code == 200  # cached in this process now
    r = client.delete(f"{KEYS}/{member_key['id']}", headers=bearer(member_token))
    assert r.status_code == 204
    # (the test transaction never commits, so the cache entry was not dropped: the membership
    # version moving is what makes the process read the row again)
    assert call(client, USERS, key).status_code == 401
    event = AuditEvent.objects.get(type=AuditEventType.API_KEY_REVOKED)
    assert event.resource_id == member_key["id"]
    assert client.get(KEYS, headers=bearer(member_token)).json()["items"] == []


def test_deactivating_the_member_revokes_its_keys(client, member, member_key, admin_token):
    key = member_key["key"]
    assert call(client, USERS, key).status_code == 200
    r = client.post(
        f"{USERS}/{member.user_id}/deactivate",
        headers=bearer(admin_token),
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    assert call(client, USERS, key).status_code == 401
    assert ApiKey.objects.get(pk=member_key["id"]).revoked_reason == "member_deactivated"


def test_members_see_and_revoke_their_own_keys_administrators_all(
    client, acme, member_key, member_token, admin_token
):
    admins = create_key(client, admin_token, scopes=["*:*"]).json()
    mine = client.get(KEYS, headers=bearer(member_token)).json()["items"]
    assert [k["id"] for k in mine] == [member_key["id"]]
    everyone = client.get(KEYS, headers=bearer(admin_token)).json()["items"]
    assert {k["id"] for k in everyone} == {member_key["id"], admins["id"]}
    narrowed = client.get(
        f"{KEYS}?user_id={member_key['owner']['user_id']}", headers=bearer(admin_token)
    ).json()["items"]
    assert [k["id"] for k in narrowed] == [member_key["id"]]
    # a member cannot see nor revoke someone else's key
    assert client.delete(f"{KEYS}/{admins['id']}", headers=bearer(member_token)).status_code == 404
    # an administrator may revoke anyone's
    assert (
        client.delete(f"{KEYS}/{member_key['id']}", headers=bearer(admin_token)).status_code == 204
    )
    assert client.delete(f"{KEYS}/nope", headers=bearer(admin_token)).status_code == 404


def test_viewers_cannot_create_keys(client, acme):
    make_member(acme, "viewer@acme.test", roles=["viewer"])
    token = login_token(client, "viewer@acme.test")
    assert create_key(client, token).status_code == 403
    assert client.get(KEYS, headers=bearer(token)).status_code == 403


def test_keys_cannot_sign_in_manage_sessions_mfa_or_keys(client, member_key):
    key = member_key["key"]
    assert call(client, f"{API}/auth/me", key).status_code == 200
    for method, path in [
        ("get", f"{API}/auth/sessions"),
        ("post", f"{API}/auth/logout"),
        ("post", f"{API}/auth/mfa/totp/setup"),
        ("post", f"{API}/auth/password/change"),
    ]:
        r = call(client, path, key, method=method)
        assert r.status_code == 403 and r.json()["code"] == "api_key_not_allowed", path
    r = client.post(
        KEYS,
        {"name": "child", "scopes": ["user:read"]},
        content_type="application/json",
        headers=bearer(key),
    )
    assert r.status_code == 403  # api_key:create is not in its scopes, and keys never mint keys


def test_a_key_with_the_create_scope_still_cannot_mint_keys(client, member_token):
    key = create_key(client, member_token, scopes=["api_key:create", "api_key:read"]).json()["key"]
    r = client.post(
        KEYS,
        {"name": "child", "scopes": ["api_key:read"]},
        content_type="application/json",
        headers=bearer(key),
    )
    assert r.status_code == 403 and r.json()["code"] == "api_key_not_allowed"
    assert call(client, KEYS, key).status_code == 200


def test_revoking_a_whole_tenants_credentials_stops_cached_keys(client, acme, member_key):
    from tessera.authn.revocation import credentials_revoke_for_tenant

    key = member_key["key"]
    assert call(client, USERS, key).status_code == 200
    counts = credentials_revoke_for_tenant(tenant=acme, reason="incident")
    assert counts["api_keys"] == 1
    assert call(client, USERS, key).status_code == 401
