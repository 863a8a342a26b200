"""Service accounts: created by an administrator, hold roles and API keys, never sign in."""

from __future__ import annotations

import uuid

from tests.authn.api_keys.conftest import API, bearer, call, create_key

from tessera.identity.models import User

ACCOUNTS = f"{API}/service-accounts"


def _create(client, token, **body):
    return client.post(ACCOUNTS, body, content_type="application/json", headers=bearer(token))


def test_an_administrator_creates_and_lists_service_accounts(client, admin_token):
    r = _create(client, admin_token, name="Nightly Export", roles=["viewer"])
    assert r.status_code == 201, r.content
    account = r.json()
    assert account["email"] == "svc-nightly-export@acme.service.tessera.invalid"
    assert account["roles"] == ["viewer"] and account["name"] == "Nightly Export"
    user = User.objects.get(pk=account["id"])
    assert user.is_service_account and not user.has_usable_password()
    twin = _create(client, admin_token, name="Nightly Export").json()
    assert twin["email"] != account["email"] and twin["email"].startswith("svc-nightly-export-")
    listed = client.get(ACCOUNTS, headers=bearer(admin_token)).json()
    assert [a["id"] for a in listed["items"]] == [account["id"], twin["id"]]
    # a member like the others: it shows in /users
    assert (
        client.get(f"{API}/users/{account['id']}", headers=bearer(admin_token)).status_code == 200
    )
    # and it never signs in
    login = client.post(
        f"{API}/auth/login",
        {"email": account["email"], "password": "anything at all, really"},
        content_type="application/json",
    )
    assert login.status_code == 401


def test_members_cannot_create_service_accounts(client, member_token):
    assert _create(client, member_token, name="x").status_code == 403
    assert _create(client, member_token, name="x", roles=["admin"]).status_code == 403


def test_service_account_keys_need_scopes_both_hold(client, admin_token, member, member_token):
    account = _create(client, admin_token, name="reader", roles=["viewer"]).json()
    lacking = create_key(
        client,
        admin_token,
        scopes=["user:read", "user:create"],
        service_account_id=account["id"],
    )
    assert lacking.status_code == 422
    assert lacking.json()["errors"] == [
        {
            "field": "scopes[1]",
            "message": "The service account does not hold user:create.",
            "code": "not_held",
        }
    ]
    r = create_key(client, admin_token, scopes=["user:read"], service_account_id=account["id"])
    assert r.status_code == 201
    key = r.json()
    assert key["owner"] == {
        "user_id": account["id"],
        "email": account["email"],
        "is_service_account": True,
    }
    me = call(client, f"{API}/auth/me", key["key"]).json()
    assert me["user"]["id"] == account["id"] and me["roles"] == ["viewer"]
    assert call(client, f"{API}/users", key["key"]).status_code == 200
    # a plain member may not mint keys for the service account
    denied = create_key(
        client, member_token, scopes=["user:read"], service_account_id=account["id"]
    )
    assert denied.status_code == 403
    # an unknown or human "service account" is refused
    for other in (str(uuid.uuid4()), str(member.user_id), "nope"):
        unknown = create_key(client, admin_token, service_account_id=other)
        assert unknown.status_code == 422, other


def test_deactivating_a_service_account_revokes_its_keys(client, admin_token):
    account = _create(client, admin_token, name="bot", roles=["viewer"]).json()
    key = create_key(client, admin_token, service_account_id=account["id"]).json()["key"]
    assert call(client, f"{API}/users", key).status_code == 200
    r = client.post(
        f"{API}/users/{account['id']}/deactivate",
        headers=bearer(admin_token),
        content_type="application/json",
    )
    assert r.status_code == 200
    assert call(client, f"{API}/users", key).status_code == 401
