"""Sessions: logout, revocation on the next request, limits, idle timeout, lists, switching."""

from __future__ import annotations

from datetime import timedelta

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from tests.authn.conftest import ME, bearer, login, me, post
from tests.factories import make_member, make_tenant

from tessera.audit.models import AuditEvent, AuditEventType
from tessera.authn.models import RefreshToken, Session
from tessera.authn.sessions import sessions_revoke_for_user
from tessera.tenancy.services import membership_set_status

SESSIONS = "/api/v1/auth/sessions"


def test_logout_denies_the_next_request(client, tokens):
    token = tokens["access_token"]
    assert me(client, token).status_code == 200
    assert post(client, "/api/v1/auth/logout", token=token).status_code == 204
    r = me(client, token)
    assert r.status_code == 401 and r.json()["code"] == "session_ended"
    refresh = post(client, "/api/v1/auth/refresh", {"refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 401
    assert AuditEvent.objects.filter(type=AuditEventType.LOGOUT).count() == 1


def test_logout_all_ends_every_session_of_the_user(client, alice):
    first = login(client, "alice@example.test").json()["access_token"]
    second = login(client, "alice@example.test").json()["access_token"]
    r = post(client, "/api/v1/auth/logout", {"all": True}, token=first)
    assert r.status_code == 204
    assert me(client, first).status_code == 401
    assert me(client, second).status_code == 401


def test_logout_needs_a_caller(client, db):
    assert post(client, "/api/v1/auth/logout").status_code == 401


def test_deactivating_the_membership_denies_live_tokens_at_once(client, tokens, alice):
    assert me(client, tokens["access_token"]).status_code == 200
    membership_set_status(membership=alice, status="suspended")
    assert me(client, tokens["access_token"]).status_code == 401
    membership_set_status(membership=alice, status="active")
    assert me(client, tokens["access_token"]).status_code == 200


def test_deactivating_the_tenant_or_the_user_denies_live_tokens(client, tokens, acme, alice):
    acme.is_active = False
    acme.save()
    from tessera.tenancy.services import tenant_policy_bump

    tenant_policy_bump(tenant_id=acme.pk)
    assert me(client, tokens["access_token"]).status_code == 401
    acme.is_active = True
    acme.save()
    tenant_policy_bump(tenant_id=acme.pk)
    assert me(client, tokens["access_token"]).status_code == 200
    alice.user.is_active = False
    alice.user.save()
    sessions_revoke_for_user(user=alice.user, reason="user_deactivated")
    assert me(client, tokens["access_token"]).status_code == 401


def test_the_session_limit_revokes_the_oldest(client, acme, alice):
    acme.settings["sessions"]["max_sessions"] = 2
    acme.save()
    first, second, third = (
        login(client, "alice@example.test", tenant="acme").json() for _ in range(3)
    )
    assert me(client, first["access_token"]).status_code == 401
    assert me(client, second["access_token"]).status_code == 200
    assert me(client, third["access_token"]).status_code == 200
    revoked = Session.objects.get(pk=first["session_id"])
    assert revoked.revoked_reason == "session_limit"
    assert AuditEvent.objects.filter(type=AuditEventType.SESSION_REVOKED).count() == 1


def test_the_default_limit_is_five(client, alice):
    sessions = [login(client, "alice@example.test").json() for _ in range(6)]
    assert me(client, sessions[0]["access_token"]).status_code == 401
    assert all(me(client, s["access_token"]).status_code == 200 for s in sessions[1:])


def test_sessions_are_listed_and_one_can_be_revoked(client, alice):
    mine = [login(client, "alice@example.test", HTTP_USER_AGENT="ua").json() for _ in range(3)]
    token = mine[-1]["access_token"]
    r = client.get(SESSIONS, headers=bearer(token))
    assert r.status_code == 200
    body = r.json()
    assert [s["id"] for s in body["items"]] == [s["session_id"] for s in reversed(mine)]
    assert [s["current"] for s in body["items"]] == [True, False, False]
    assert {"id", "created_at", "last_activity", "ip", "user_agent", "current"} <= set(
        body["items"][0]
    )
    assert body["next_cursor"] is None
    page = client.get(SESSIONS, {"limit": 2}, headers=bearer(token)).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = client.get(SESSIONS, {"limit": 2, "cursor": page["next_cursor"]}, headers=bearer(token))
    assert [s["id"] for s in rest.json()["items"]] == [mine[0]["session_id"]]
    r = client.delete(f"{SESSIONS}/{mine[0]['session_id']}", headers=bearer(token))
    assert r.status_code == 204
    assert me(client, mine[0]["access_token"]).status_code == 401
    assert me(client, token).status_code == 200


def test_another_users_session_is_404(client, acme, alice):
    make_member(acme, "bob@example.test")
    bob = login(client, "bob@example.test").json()
    mine = login(client, "alice@example.test").json()
    r = client.delete(f"{SESSIONS}/{bob['session_id']}", headers=bearer(mine["access_token"]))
    assert r.status_code == 404
    assert (
        client.delete(f"{SESSIONS}/nope", headers=bearer(mine["access_token"])).status_code == 404
    )
    assert me(client, bob["access_token"]).status_code == 200


def test_activity_moves_the_idle_expiry_at_most_once_a_minute(client, tokens):
    session = Session.objects.get(pk=tokens["session_id"])
    before = session.expires_at
    me(client, tokens["access_token"])
    assert Session.objects.get(pk=session.pk).expires_at == before  # within the minute: no write
    Session.objects.filter(pk=session.pk).update(
        last_activity_at=timezone.now() - timedelta(minutes=2),
        expires_at=timezone.now() + timedelta(minutes=5),
    )
    from tessera.authn.session_state import state_invalidate_session

    state_invalidate_session(tenant_id=session.tenant_id, session_id=session.pk)
    assert me(client, tokens["access_token"]).status_code == 200
    touched = Session.objects.get(pk=session.pk)
    assert touched.expires_at > timezone.now() + timedelta(hours=23)
    assert touched.expires_at <= touched.absolute_expires_at


def test_an_idle_session_expires(client, tokens):
    Session.objects.filter(pk=tokens["session_id"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    from tessera.authn.session_state import state_invalidate_session

    session = Session.objects.get(pk=tokens["session_id"])
    state_invalidate_session(tenant_id=session.tenant_id, session_id=session.pk)
    assert me(client, tokens["access_token"]).status_code == 401


def test_authenticating_a_request_costs_one_state_read(client, tokens, settings):
    me(client, tokens["access_token"])  # warm: signing keys loaded, token verified once
    with CaptureQueriesContext(connection) as queries:
        r = client.get("/api/v1/auth/sessions", headers=bearer(tokens["access_token"]))
    assert r.status_code == 200
    auth_queries = [q for q in queries.captured_queries if "authn_session" in q["sql"]]
    # without Redis: one query for the state check, one for the listing itself
    expected = 1 if settings.REDIS_URL else 2
    assert len(auth_queries) <= expected, [q["sql"] for q in auth_queries]


def test_switching_tenant_issues_tokens_for_it_and_retires_the_old_ones(client, alice):
    globex = make_tenant("globex")
    make_member(globex, user=alice.user, roles=["viewer"])
    first = login(client, "alice@example.test", tenant="acme").json()
    r = post(
        client, "/api/v1/auth/switch-tenant", {"tenant": "globex"}, token=first["access_token"]
    )
    assert r.status_code == 200
    switched = r.json()
    assert switched["tenant"]["slug"] == "globex"
    assert switched["session_id"] == first["session_id"]
    answer = me(client, switched["access_token"]).json()
    assert answer["tenant"]["slug"] == "globex" and answer["roles"] == ["viewer"]
    assert me(client, first["access_token"]).status_code == 401
    old_refresh = post(client, "/api/v1/auth/refresh", {"refresh_token": first["refresh_token"]})
    assert old_refresh.status_code == 401
    assert me(client, switched["access_token"]).status_code == 200  # not a reuse: still alive


def test_switching_to_a_tenant_one_is_not_an_active_member_of_is_403(client, tokens, alice):
    make_tenant("globex")
    r = post(
        client, "/api/v1/auth/switch-tenant", {"tenant": "globex"}, token=tokens["access_token"]
    )
    assert r.status_code == 403
    assert me(client, tokens["access_token"]).status_code == 200


def test_a_tenant_bound_token_cannot_be_pointed_at_another_tenant(client, tokens, alice):
    globex = make_tenant("globex")
    make_member(globex, user=alice.user)
    r = client.get(ME, headers={**bearer(tokens["access_token"]), "X-Tenant": "globex"})
    assert r.status_code == 403
    same = client.get(ME, headers={**bearer(tokens["access_token"]), "X-Tenant": "acme"})
    assert same.status_code == 200


def test_cleanup_deletes_what_can_no_longer_be_used(client, tokens, alice):
    old = timezone.now() - timedelta(days=30)
    Session.objects.filter(pk=tokens["session_id"]).update(absolute_expires_at=old, expires_at=old)
    RefreshToken.objects.update(expires_at=old)
    login(client, "alice@example.test")  # a live one stays
    from io import StringIO

    out = StringIO()
    call_command("cleanup", stdout=out)
    assert "sessions: 1" in out.getvalue()
    assert Session.objects.count() == 1
    assert RefreshToken.objects.count() == 1


def test_logout_takes_an_optional_body(client, alice):
    first = login(client, "alice@example.test").json()["access_token"]
    assert client.post("/api/v1/auth/logout", headers=bearer(first)).status_code == 204
    second = login(client, "alice@example.test").json()["access_token"]
    r = post(client, "/api/v1/auth/logout", {"all": "maybe"}, token=second)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "all"
    assert me(client, second).status_code == 200
