"""Issue 12, attack 8: a platform-level deactivation (User.is_active=False) stops every credential
of the person on the next request — sessions, refresh tokens and API keys — on both backends
(with Redis the membership state used to stay cached for an hour, so API keys kept working)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from tests.factories import DEFAULT_PASSWORD, make_member, make_tenant

from tessera.authn.api_keys import api_key_create
from tessera.identity.models import User
from tessera.testing import admin_session_login

ME = "/api/v1/auth/me"


def _bearer(credential: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}"}


def _credentials():
    acme = make_tenant("acme")
    make_member(acme, "admin@acme.test", roles=["admin"])
    member = make_member(acme, "member@acme.test", roles=["member"])
    key = api_key_create(owner=member, by=member, name="ci", scopes=["user:read"]).raw
    client = Client()
    login = client.post(
        "/api/v1/auth/login",
        {"email": "member@acme.test", "password": DEFAULT_PASSWORD, "tenant": "acme"},
        content_type="application/json",
    ).json()
    # every credential works, and its live state is now cached (Redis) or read (database)
    for credential in (key, login["access_token"]):
        assert client.get(ME, headers=_bearer(credential)).status_code == 200
        assert client.get("/api/v1/users", headers=_bearer(credential)).status_code == 200
    return member, key, login, client


def _deactivation_holds(save) -> None:
    member, key, login, client = _credentials()
    user = User.objects.get(pk=member.user_id)
    user.is_active = False
    save(user)
    assert client.get(ME, headers=_bearer(key)).status_code == 401
    assert client.get("/api/v1/users", headers=_bearer(key)).status_code == 401
    assert client.get(ME, headers=_bearer(login["access_token"])).status_code == 401
    r = client.post(
        "/api/v1/auth/refresh",
        {"refresh_token": login["refresh_token"]},
        content_type="application/json",
    )
    assert r.status_code == 401

    user.is_active = True
    save(user)
    assert client.get(ME, headers=_bearer(key)).status_code == 200  # keys were blocked, not revoked
    assert client.get(ME, headers=_bearer(login["access_token"])).status_code == 401  # sessions end


SAVES = {
    "save": lambda user: user.save(),
    "update_fields": lambda user: user.save(update_fields=["is_active"]),
}


@pytest.mark.parametrize("save", SAVES.values(), ids=SAVES.keys())
def test_attack_platform_deactivation_stops_every_credential(db, save):
    _deactivation_holds(save)


@pytest.mark.redis
def test_attack_platform_deactivation_stops_api_keys_on_redis(db):
    assert settings.REDIS_URL, "this test runs against Redis"
    _deactivation_holds(SAVES["save"])


def test_deactivation_in_the_admin_site_stops_the_api_key(db):
    member, key, _, client = _credentials()
    root = User.objects.create_user("root@platform.test", "x" * 20, is_platform_admin=True)
    admin = Client()
    admin_session_login(admin, root)
    change = f"/admin/identity/user/{member.user_id}/change/"
    page = admin.get(change)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update({"is_active": "", "_save": "Save"})
    for prefix in [fs.formset.prefix for fs in page.context["inline_admin_formsets"]]:
        for part in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS"):
            data[f"{prefix}-{part}"] = "0"
    r = admin.post(change, data)
    assert r.status_code == 302, r.content[:2000]
    assert not User.objects.get(pk=member.user_id).is_active
    assert client.get(ME, headers=_bearer(key)).status_code == 401
