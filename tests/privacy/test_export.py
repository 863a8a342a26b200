"""GET /api/v1/users/{id}/export: the person's data in this tenant, and who may have it."""

from __future__ import annotations

import json

import pytest

from tessera.audit.models import AuditEvent
from tests.privacy.conftest import AVATAR, EMAIL, FIRST, IP, PHONE, UA, as_person

SECRET_KEYS = {"password", "token_hash", "key_hash", "secret", "secret_encrypted", "code_hash"}


def body_of(response) -> dict:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    return json.loads(b"".join(response.streaming_content))


def keys_in(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_in(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_in(v)}
    return set()


def test_an_administrator_exports_everything_of_the_person_in_this_tenant(world):
    data = body_of(world.api(world.admin).get(f"/users/{world.uid}/export"))

    assert data["format"] == "tessera.member-export/1"
    assert data["tenant"]["slug"] == "acme"
    profile = data["profile"]
    assert (profile["id"], profile["email"], profile["first_name"]) == (world.uid, EMAIL, FIRST)
    assert (profile["phone"], profile["avatar_url"]) == (PHONE, AVATAR)
    membership = data["membership"]
    assert membership["id"] == str(world.person.pk)
    assert membership["employee_id"] == "ZQ-0142"
    assert membership["attributes"] == {"badge": "Zebulon-badge-0142"}
    assert [r["slug"] for r in data["roles"]] == ["member"]
    assert "expires_at" in data["roles"][0]
    assert data["overrides"] == [{"effect": "deny", "permission": "role:read", "scope": "all"}]
    assert [g["resource_id"] for g in data["grants"]] == ["42"]
    colleague = str(world.colleague.user_id)
    assert [d["delegate_id"] for d in data["delegations"]["given"]] == [colleague]
    assert [d["delegator_id"] for d in data["delegations"]["received"]] == [colleague]
    [session] = data["sessions"]
    assert (session["ip"], session["user_agent"]) == (IP, UA)
    [key] = data["api_keys"]
    assert key["name"] == f"{FIRST}'s laptop" and key["scopes"] == ["user:read"]
    assert world.api_key.startswith(f"tsk_{key['prefix']}_")
    assert data["mfa"]["enabled"] is True and data["mfa"]["backup_codes_remaining"] == 10

    # never a secret, a hash or the key itself
    assert not keys_in(data) & SECRET_KEYS
    raw = json.dumps(data)
    assert world.api_key not in raw
    assert world.person.user.password not in raw

    # the audit events by him (his login, from his address) and about him, in this tenant only
    events = data["audit_events"]
    types = {e["type"] for e in events}
    assert {"LOGIN", "API_KEY_CREATED", "PROFILE_UPDATE", "GRANT_CREATED", "MFA_ENABLED"} <= types
    assert "PASSWORD_RESET" not in types  # platform chain, not this tenant's
    login = next(e for e in events if e["type"] == "LOGIN")
    assert (login["ip"], login["user_agent"], login["actor"]["user_id"]) == (IP, UA, world.uid)
    seqs = [AuditEvent.objects.get(pk=e["id"]).seq for e in events]
    assert seqs == sorted(seqs)  # oldest first
    assert all(AuditEvent.objects.get(pk=e["id"]).tenant_id == world.acme.pk for e in events)


def test_the_export_is_audited(world):
    world.api(world.admin).get(f"/users/{world.uid}/export")
    event = AuditEvent.objects.filter(type="DATA_EXPORTED", tenant=world.acme).get()
    assert (event.resource_type, event.resource_id) == ("user", world.uid)
    assert str(event.actor_user_id) == str(world.admin.user_id)
    assert event.changes == {"scope": "member", "own": False}


def test_a_person_exports_their_own_data_without_any_permission(world):
    """The guest role holds no `user:read`, yet its holder may export themselves."""
    api = world.api(world.guest)
    assert api.get(f"/users/{world.guest.user_id}").status_code == 403
    data = body_of(api.get(f"/users/{world.guest.user_id}/export"))
    assert data["profile"]["email"] == "guest@acme.test"
    assert [r["slug"] for r in data["roles"]] == ["guest"]
    event = AuditEvent.objects.filter(type="DATA_EXPORTED").get()
    assert event.changes["own"] is True


def test_the_person_exports_with_a_token_and_with_a_key_that_has_the_scope(client, world):
    data = body_of(as_person(client, "get", f"/users/{world.uid}/export", world.token))
    assert data["profile"]["id"] == world.uid
    r = as_person(client, "get", f"/users/{world.uid}/export", **{"X-API-Key": world.api_key})
    assert body_of(r)["profile"]["id"] == world.uid


def test_exporting_someone_else_needs_user_export(world):
    api = world.api(world.guest)
    r = api.get(f"/users/{world.uid}/export")
    assert r.status_code == 403
    assert r["Content-Type"] == "application/problem+json"
    # the refusal comes before the lookup: an unknown id answers the same
    assert api.get("/users/00000000-0000-4000-8000-000000000000/export").status_code == 403
    assert not AuditEvent.objects.filter(type="DATA_EXPORTED").exists()
    # a plain member holds user:read (the directory) but not user:export: no colleague's data
    assert world.api(world.colleague).get(f"/users/{world.uid}/export").status_code == 403


@pytest.mark.parametrize("user_id", ["person", "outsider", "unknown", "not-a-uuid"])
def test_another_tenants_user_or_an_unknown_id_is_404(world, user_id):
    ids = {
        "person": world.uid,
        "outsider": str(world.outsider.user_id),
        "unknown": "00000000-0000-4000-8000-000000000000",
        "not-a-uuid": "zebulon",
    }
    caller = world.admin if user_id != "person" else world.outsider
    r = world.api(caller).get(f"/users/{ids[user_id]}/export")
    assert r.status_code == 404
    assert r["Content-Type"] == "application/problem+json"


def test_an_anonymous_caller_is_401(client, world):
    assert client.get(f"/api/v1/users/{world.uid}/export").status_code == 401


def test_a_key_without_the_scope_cannot_export_its_owner(client, world):
    from tessera.authn.api_keys import api_key_create

    raw = api_key_create(
        owner=world.person, by=world.person, name="narrow", scopes=["grant:read"]
    ).raw
    r = as_person(client, "get", f"/users/{world.uid}/export", **{"X-API-Key": raw})
    assert r.status_code == 403 and r.json()["code"] == "api_key_scope"
