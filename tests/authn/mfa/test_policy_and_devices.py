"""The tenant's MFA policy (all members, or chosen roles) and trusted devices."""

from __future__ import annotations

from tests.authn.mfa.conftest import DEVICES, VERIFY, bearer, code_now, enrol, login, post
from tests.factories import make_member

from tessera.authn.models import AuthMethod, Session, TrustedDevice
from tessera.tenancy.models import Tenant


def _require(tenant, **mfa):
    settings = {**tenant.settings, "mfa": {**tenant.settings.get("mfa", {}), **mfa}}
    Tenant.objects.filter(pk=tenant.pk).update(settings=settings)


def test_a_tenant_requiring_mfa_limits_members_without_it_to_the_setup(client, acme, mia):
    _require(acme, required="all")
    r = login(client)
    assert r.status_code == 200
    body = r.json()
    assert body["mfa_setup_required"] is True
    token = body["access_token"]

    blocked = client.get("/api/v1/users", headers=bearer(token))
    assert blocked.status_code == 403 and blocked.json()["code"] == "mfa_setup_required"
    assert client.get("/api/v1/auth/sessions", headers=bearer(token)).status_code == 403
    me = client.get("/api/v1/auth/me", headers=bearer(token))
    assert me.status_code == 200 and me.json()["mfa_setup_required"] is True

    enrol(client, token)  # setup and confirm are allowed ...
    assert client.get("/api/v1/users", headers=bearer(token)).status_code == 200  # ... and lift it
    session = Session.objects.get(pk=body["session_id"])
    assert not session.mfa_setup_required and session.mfa_verified_at is not None
    assert login(client).json()["mfa_required"] is True  # from now on: the MFA step


def test_logout_works_in_a_limited_session(client, acme, mia):
    _require(acme, required="all")
    token = login(client).json()["access_token"]
    assert post(client, "/api/v1/auth/logout", token=token).status_code == 204


def test_required_roles_limit_only_their_holders(client, acme, mia):
    _require(acme, required="roles", required_roles=["admin"])
    make_member(acme, "boss@example.test", roles=["admin"])
    assert login(client).json()["mfa_setup_required"] is False
    boss = login(client, email="boss@example.test").json()
    assert boss["mfa_setup_required"] is True
    r = client.get("/api/v1/users", headers=bearer(boss["access_token"]))
    assert r.status_code == 403 and r.json()["code"] == "mfa_setup_required"


def test_disabling_mfa_in_a_requiring_tenant_limits_the_session_again(client, acme, mia):
    token = login(client).json()["access_token"]
    enrolled = enrol(client, token)
    _require(acme, required="all")
    r = post(
        client,
        "/api/v1/auth/mfa/disable",
        {"password": "correct horse battery staple", "code": code_now(enrolled.secret, 1)},
        token=token,
    )
    assert r.status_code == 204
    assert client.get("/api/v1/users", headers=bearer(token)).json()["code"] == (
        "mfa_setup_required"
    )


def _verify(client, secret, *, trust=True, offset=1):
    pending = login(client).json()["mfa_token"]
    r = post(
        client,
        VERIFY,
        {"mfa_token": pending, "code": code_now(secret, offset), "trust_device": trust},
    )
    assert r.status_code == 200, r.content
    return r.json()


def test_a_trusted_device_skips_the_mfa_step_until_revoked(client, token, mia):
    enrolled = enrol(client, token)
    done = _verify(client, enrolled.secret)
    device_token = done["device_token"]
    assert device_token and Session.objects.get(pk=done["session_id"]).device_trusted

    skipped = login(client, device_token=device_token).json()
    assert "access_token" in skipped
    session = Session.objects.get(pk=skipped["session_id"])
    assert session.auth_method == AuthMethod.TRUSTED_DEVICE and session.device_trusted
    assert session.mfa_verified_at is not None
    assert login(client, device_token="not-a-device").json()["mfa_required"] is True

    listed = client.get(DEVICES, headers=bearer(token)).json()["items"]
    assert [d["id"] for d in listed] == [str(TrustedDevice.objects.get().pk)]
    assert device_token not in str(listed)
    gone = client.delete(f"{DEVICES}/{listed[0]['id']}", headers=bearer(token))
    assert gone.status_code == 204
    assert client.delete(f"{DEVICES}/{listed[0]['id']}", headers=bearer(token)).status_code == 404
    assert login(client, device_token=device_token).json()["mfa_required"] is True


def test_a_device_token_is_the_users_own(client, token, acme, mia):
    enrolled = enrol(client, token)
    device_token = _verify(client, enrolled.secret)["device_token"]
    other = make_member(acme, "other@example.test")
    other_token = login(client, email=other.user.email).json()["access_token"]
    enrol(client, other_token)
    assert login(client, email=other.user.email, device_token=device_token).json()["mfa_required"]


def test_a_tenant_can_forbid_trusted_devices(client, token, acme):
    enrolled = enrol(client, token)
    device_token = _verify(client, enrolled.secret)["device_token"]
    _require(acme, allow_trusted_devices=False)
    assert login(client, device_token=device_token).json()["mfa_required"] is True
    pending = login(client).json()["mfa_token"]
    r = post(
        client,
        VERIFY,
        {"mfa_token": pending, "code": enrolled.backup_codes[0], "trust_device": True},
    )
    assert r.status_code == 200 and r.json()["device_token"] is None


def test_disabling_mfa_revokes_the_trusted_devices(client, token):
    enrolled = enrol(client, token)
    _verify(client, enrolled.secret)
    r = post(
        client,
        "/api/v1/auth/mfa/disable",
        {"password": "correct horse battery staple", "code": enrolled.backup_codes[0]},
        token=token,
    )
    assert r.status_code == 204
    assert not TrustedDevice.objects.filter(revoked_at__isnull=True).exists()


def test_switching_into_a_tenant_that_requires_mfa_limits_the_session(client, acme, mia):
    from tests.factories import make_tenant

    strict = make_tenant("strict")
    make_member(strict, user=mia.user)
    _require(strict, required="all")
    token = login(client).json()["access_token"]
    assert client.get("/api/v1/users", headers=bearer(token)).status_code == 200
    switched = post(client, "/api/v1/auth/switch-tenant", {"tenant": "strict"}, token=token)
    assert switched.status_code == 200 and switched.json()["mfa_setup_required"] is True
    r = client.get("/api/v1/users", headers=bearer(switched.json()["access_token"]))
    assert r.status_code == 403 and r.json()["code"] == "mfa_setup_required"


def test_cleanup_forgets_spent_challenges_and_dead_devices(client, token):
    import io
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    from tessera.authn.models import MfaChallenge

    enrolled = enrol(client, token)
    _verify(client, enrolled.secret)  # one used challenge, one device
    login(client)  # one live challenge
    TrustedDevice.objects.update(revoked_at=timezone.now() - timedelta(days=8))
    out = io.StringIO()
    call_command("cleanup", stdout=out)
    assert "mfa_challenges: 1" in out.getvalue()
    assert MfaChallenge.objects.count() == 1
    assert not TrustedDevice.objects.exists()
