"""/api/v1/scim-tokens: a tenant's SCIM credentials — created by full administrators only, shown
once, stored as a hash, revocable, audited; another tenant's answers 404."""

from __future__ import annotations

import hashlib

import pytest
from django.test import Client

from tessera.audit.models import ActorType, AuditEvent, AuditEventType
from tessera.scim.models import ScimToken
from tests.authn.conftest import login
from tests.factories import make_member, make_tenant

TOKENS = "/api/v1/scim-tokens"
pytestmark = pytest.mark.django_db


def _token(client, email, tenant="acme"):
    answer = login(client, email, tenant=tenant)
    assert answer.status_code == 200, answer.content
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


@pytest.fixture
def world():
    acme = make_tenant("acme")
    make_member(acme, "admin@acme.example", roles=["admin"])
    make_member(acme, "manager@acme.example", roles=["manager"])
    globex = make_tenant("globex")
    make_member(globex, "admin@globex.example", roles=["admin"])
    return acme, globex


def test_an_administrator_creates_a_token_shown_once_and_stored_as_a_hash(client, world):
    headers = _token(client, "admin@acme.example")
    created = client.post(
        TOKENS, {"name": "Okta"}, content_type="application/json", headers=headers
    )
    assert created.status_code == 201
    body = created.json()
    assert body["token"].startswith(f"tscim_{body['prefix']}_")
    stored = ScimToken.objects.get(pk=body["id"])
    assert stored.token_hash == hashlib.sha256(body["token"].encode()).hexdigest()
    assert body["token"] not in str(list(ScimToken.objects.values()))
    listed = client.get(TOKENS, headers=headers).json()
    assert [t["id"] for t in listed] == [body["id"]]
    assert "token" not in listed[0]
    event = AuditEvent.objects.get(type=AuditEventType.SCIM_TOKEN_CREATED)
    assert event.resource_id == body["id"]
    assert body["token"] not in str(event.changes)
    # the token works at once
    scim = client.get("/scim/v2/Users", headers={"Authorization": f"Bearer {body['token']}"})
    assert scim.status_code == 200


def test_a_manager_cannot_create_or_list_tokens(client, world):
    headers = _token(client, "manager@acme.example")
    assert (
        client.post(
            TOKENS, {"name": "x"}, content_type="application/json", headers=headers
        ).status_code
        == 403
    )
    assert client.get(TOKENS, headers=headers).status_code == 403
    assert not ScimToken.objects.exists()


def test_without_full_authority_creation_is_refused_by_the_escalation_rule(client, world):
    """`tenant:update` lets one list and revoke; minting a credential that acts on every
    member (administrators included) needs everything they hold: `*:*`."""
    from tessera.access.services.assignments import role_assign
    from tessera.access.services.roles import role_create

    acme, _ = world
    role = role_create(
        tenant=acme,
        slug="settings",
        name="Settings",
        rules=[{"effect": "allow", "permission": "tenant:update", "scope": "all"}],
    )
    holder = make_member(acme, "settings@acme.example", roles=[])
    role_assign(membership=holder, role=role)
    headers = _token(client, "settings@acme.example")
    answer = client.post(TOKENS, {"name": "x"}, content_type="application/json", headers=headers)
    assert answer.status_code == 403
    assert answer.json()["code"] == "not_held"
    assert client.get(TOKENS, headers=headers).status_code == 200


def test_a_revoked_token_fails_its_next_request(client, world):
    headers = _token(client, "admin@acme.example")
    body = client.post(
        TOKENS, {"name": "Entra"}, content_type="application/json", headers=headers
    ).json()
    scim = {"Authorization": f"Bearer {body['token']}"}
    assert client.get("/scim/v2/Users", headers=scim).status_code == 200
    assert client.delete(f"{TOKENS}/{body['id']}", headers=headers).status_code == 204
    refused = client.get("/scim/v2/Users", headers=scim)
    assert refused.status_code == 401
    assert refused.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    event = AuditEvent.objects.get(type=AuditEventType.SCIM_TOKEN_REVOKED)
    assert event.actor_type == ActorType.USER
    assert client.delete(f"{TOKENS}/{body['id']}", headers=headers).status_code == 204


def test_another_tenants_token_is_not_found(client, world):
    theirs = client.post(
        TOKENS,
        {"name": "theirs"},
        content_type="application/json",
        headers=_token(client, "admin@globex.example", tenant="globex"),
    ).json()
    headers = _token(client, "admin@acme.example")
    assert client.delete(f"{TOKENS}/{theirs['id']}", headers=headers).status_code == 404
    assert client.delete(f"{TOKENS}/not-a-uuid", headers=headers).status_code == 404
    assert ScimToken.objects.get(pk=theirs["id"]).revoked_at is None
    assert client.get(TOKENS, headers=headers).json() == []


def test_a_token_acts_only_in_its_own_tenant(world):
    from tessera.scim.tokens import scim_token_create

    acme, globex = world
    raw = scim_token_create(tenant=globex, name="g", by=None).raw
    answer = Client().get("/scim/v2/Users", HTTP_AUTHORIZATION=f"Bearer {raw}")
    emails = [u["userName"] for u in answer.json()["Resources"]]
    assert emails == ["admin@globex.example"]
    acme_user = acme.memberships.first().user_id
    other = Client().get(f"/scim/v2/Users/{acme_user}", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert other.status_code == 404


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Basic dXNlcjpwYXNz", "Bearer tscim_unknown_token", "Bearer tsk_abc_def"],
)
def test_missing_or_wrong_credentials_answer_401_in_scims_form(world, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    answer = Client().get("/scim/v2/Users", **extra)
    assert answer.status_code == 401
    assert answer["Content-Type"] == "application/scim+json"
    assert answer.json()["status"] == "401"
    assert answer["WWW-Authenticate"].startswith("Bearer")


def test_an_invalid_name_is_422(client, world):
    headers = _token(client, "admin@acme.example")
    for name in ("", "   ", "x" * 101):
        answer = client.post(
            TOKENS, {"name": name}, content_type="application/json", headers=headers
        )
        assert answer.status_code == 422
