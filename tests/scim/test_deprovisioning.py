"""Deprovisioning is immediate: a directory suspends a person over SCIM while they hold a live
access token, a refresh token and an API key; each fails on its next request. DELETE removes
the membership (the identity stays) with the same effect."""

from __future__ import annotations

import pytest
from django.test import Client

from tessera.audit.models import ActorType, AuditEvent, AuditEventType
from tessera.authn.api_keys import api_key_create
from tessera.identity.models import User
from tessera.tenancy.models import Membership, MembershipStatus
from tests.authn.conftest import login
from tests.factories import make_member
from tests.scim.conftest import patch_ops

ME = "/api/v1/auth/me"


@pytest.fixture
def person(scim_tenant):
    membership = make_member(scim_tenant, "worker@example.com", roles=["member"])
    client = Client()
    tokens = login(client, "worker@example.com", tenant="acme").json()
    key = api_key_create(owner=membership, by=membership, name="laptop", scopes=["user:read"]).raw
    return membership, tokens, key


def _all_three_work(tokens, key):
    client = Client()
    assert client.get(ME, HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}").status_code == 200
    assert client.get("/api/v1/users", HTTP_X_API_KEY=key).status_code == 200


def _all_three_fail(tokens, key):
    client = Client()
    assert client.get(ME, HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}").status_code == 401
    refreshed = client.post(
        "/api/v1/auth/refresh",
        {"refresh_token": tokens["refresh_token"]},
        content_type="application/json",
    )
    assert refreshed.status_code == 401
    assert client.get("/api/v1/users", HTTP_X_API_KEY=key).status_code == 401


def test_active_false_over_scim_kills_every_credential_on_the_next_request(scim, person):
    membership, tokens, key = person
    _all_three_work(tokens, key)
    answer = scim.patch(
        f"/Users/{membership.user_id}",
        patch_ops({"op": "replace", "path": "active", "value": False}),
    )
    assert answer.status_code == 200
    assert answer.json()["active"] is False
    _all_three_fail(tokens, key)
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.SUSPENDED
    event = AuditEvent.objects.get(type=AuditEventType.USER_DEACTIVATED)
    assert event.actor_type == ActorType.SCIM
    assert event.actor_api_key_id is not None  # the SCIM credential
    assert event.changes["sessions"] >= 1 and event.changes["api_keys"] == 1


def test_a_put_with_active_false_does_the_same(scim, person):
    membership, tokens, key = person
    body = scim.get(f"/Users/{membership.user_id}").json()
    body["active"] = False
    assert scim.put(f"/Users/{membership.user_id}", body).status_code == 200
    _all_three_fail(tokens, key)


def test_delete_removes_the_membership_and_its_credentials_the_identity_stays(scim, person):
    membership, tokens, key = person
    assert scim.delete(f"/Users/{membership.user_id}").status_code == 204
    _all_three_fail(tokens, key)
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert User.objects.filter(pk=membership.user_id).exists()
    assert scim.get(f"/Users/{membership.user_id}").status_code == 404
    removed = AuditEvent.objects.get(type=AuditEventType.MEMBERSHIP_REMOVED)
    assert removed.actor_type == ActorType.SCIM


def test_reactivation_restores_access_but_not_the_revoked_credentials(scim, person):
    membership, tokens, key = person
    path = f"/Users/{membership.user_id}"
    scim.patch(path, patch_ops({"op": "replace", "path": "active", "value": False}))
    answer = scim.patch(path, patch_ops({"op": "replace", "path": "active", "value": True}))
    assert answer.json()["active"] is True
    _all_three_fail(tokens, key)
    fresh = login(Client(), "worker@example.com", tenant="acme")
    assert fresh.status_code == 200
