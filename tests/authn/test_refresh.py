"""Refresh tokens: rotation, reuse detection, expiry, and the concurrent-refresh race."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from tests.authn.conftest import login, me, post
from tests.factories import make_member, make_tenant

from tessera.audit.models import AuditEvent, AuditEventType
from tessera.authn.models import RefreshToken, Session
from tessera.crypto import opaque_token_hash
from tessera.tenancy.services import membership_set_status

REFRESH = "/api/v1/auth/refresh"


def refresh(client, token):
    return post(client, REFRESH, {"refresh_token": token})


def test_refresh_rotates_the_token(client, tokens):
    r = refresh(client, tokens["refresh_token"])
    assert r.status_code == 200
    body = r.json()
    assert set(body) >= {"access_token", "refresh_token", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["refresh_token"] != tokens["refresh_token"]
    assert me(client, body["access_token"]).status_code == 200
    again = refresh(client, body["refresh_token"])
    assert again.status_code == 200
    assert me(client, again.json()["access_token"]).status_code == 200


def test_only_the_hash_is_stored(client, tokens):
    stored = list(RefreshToken.objects.values_list("token_hash", flat=True))
    assert tokens["refresh_token"] not in stored
    assert opaque_token_hash(tokens["refresh_token"]) in stored


def test_reusing_a_spent_token_revokes_the_whole_session(client, tokens):
    rotated = refresh(client, tokens["refresh_token"]).json()
    thief = Client(REMOTE_ADDR="203.0.113.66", HTTP_USER_AGENT="stolen-token/1.0")
    reuse = refresh(thief, tokens["refresh_token"])
    assert reuse.status_code == 401
    assert me(client, rotated["access_token"]).status_code == 401
    assert me(client, tokens["access_token"]).status_code == 401
    assert refresh(client, rotated["refresh_token"]).status_code == 401
    session = Session.objects.get(pk=tokens["session_id"])
    assert session.revoked_reason == "refresh_token_reuse"
    event = AuditEvent.objects.get(type=AuditEventType.TOKEN_REUSE_DETECTED)
    assert event.resource_id == tokens["session_id"]
    assert tokens["refresh_token"] not in str(event.changes)


def test_the_same_client_retrying_at_once_is_refused_without_revoking(client, tokens):
    rotated = refresh(client, tokens["refresh_token"]).json()
    retry = refresh(client, tokens["refresh_token"])
    assert retry.status_code == 401
    assert me(client, tokens["access_token"]).status_code == 200
    assert refresh(client, rotated["refresh_token"]).status_code == 200
    assert not AuditEvent.objects.filter(type=AuditEventType.TOKEN_REUSE_DETECTED).exists()


def test_a_retry_after_the_grace_period_revokes(client, tokens, settings):
    settings.REFRESH_REUSE_GRACE_SECONDS = 0
    refresh(client, tokens["refresh_token"])
    assert refresh(client, tokens["refresh_token"]).status_code == 401
    assert me(client, tokens["access_token"]).status_code == 401


def test_a_retry_after_the_replacement_was_used_revokes(client, tokens):
    rotated = refresh(client, tokens["refresh_token"]).json()
    assert refresh(client, rotated["refresh_token"]).status_code == 200
    assert refresh(client, tokens["refresh_token"]).status_code == 401
    assert me(client, tokens["access_token"]).status_code == 401


def test_unknown_expired_or_revoked_refresh_tokens_are_401(client, tokens, alice):
    assert refresh(client, "not-a-token").status_code == 401
    RefreshToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert refresh(client, tokens["refresh_token"]).status_code == 401
    # an expired token is not "spent": the session itself stays alive
    assert me(client, tokens["access_token"]).status_code == 200


def test_a_refresh_for_a_suspended_member_is_refused(client, tokens, alice):
    membership_set_status(membership=alice, status="suspended")
    assert refresh(client, tokens["refresh_token"]).status_code == 401


def test_the_refresh_answer_keeps_the_tenant(client, alice):
    globex = make_tenant("globex")
    make_member(globex, user=alice.user)
    body = login(client, "alice@example.test", tenant="globex").json()
    rotated = refresh(client, body["refresh_token"]).json()
    assert me(client, rotated["access_token"]).json()["tenant"]["slug"] == "globex"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_refreshes_of_one_token_give_exactly_one_success(alice):
    body = login(Client(), "alice@example.test", tenant="acme").json()
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def attempt():
        try:
            barrier.wait()
            statuses.append(refresh(Client(), body["refresh_token"]).status_code)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 401]
    # the loser is the same client a moment later: a benign retry, the session lives on
    assert Session.objects.get(pk=body["session_id"]).revoked_at is None
    assert RefreshToken.objects.filter(session_id=body["session_id"]).count() == 2
