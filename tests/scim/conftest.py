"""The world of a SCIM test: a tenant with an administrator and a SCIM credential."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tessera.scim.tokens import scim_token_create
from tests.factories import make_member, make_tenant

SCIM_JSON = "application/scim+json"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
BASE = "/scim/v2"


class ScimClient:
    """Django's test client speaking SCIM with a bearer token."""

    def __init__(self, token: str):
        self.client = Client()
        self.token = token

    def _headers(self, headers):
        return {"HTTP_AUTHORIZATION": f"Bearer {self.token}", **(headers or {})}

    def get(self, path, params=None, **headers):
        return self.client.get(BASE + path, params or {}, **self._headers(headers))

    def _send(self, method, path, body, headers):
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        return getattr(self.client, method)(
            BASE + path, data=data, content_type=SCIM_JSON, **self._headers(headers)
        )

    def post(self, path, body, **headers):
        return self._send("post", path, body, headers)

    def put(self, path, body, **headers):
        return self._send("put", path, body, headers)

    def patch(self, path, body, **headers):
        return self._send("patch", path, body, headers)

    def delete(self, path, **headers):
        return self.client.delete(BASE + path, **self._headers(headers))


@pytest.fixture
def scim_tenant(db):
    tenant = make_tenant("acme")
    make_member(tenant, "root@acme.test", roles=["admin"])
    return tenant


@pytest.fixture
def scim(scim_tenant):
    return ScimClient(scim_token_create(tenant=scim_tenant, name="Okta", by=None).raw)


def user_payload(email: str, **extra) -> dict:
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": email,
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [{"value": email, "type": "work", "primary": True}],
        "active": True,
        **extra,
    }


def patch_ops(*operations) -> dict:
    return {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": list(operations),
    }
