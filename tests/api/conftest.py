"""The world of the tenant-administration tests: acme with an admin, a manager, a viewer and a
plain member; globex with its own admin (the outsider). `api(membership)` is an HTTP client
acting as that member in their tenant (session login + X-Tenant header)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from django.test import Client

from tessera.tenancy.models import Tenant
from tessera.testing import api_session_login
from tests.factories import make_member, make_tenant

API = "/api/v1"


class Api:
    """A logged-in client acting in one tenant; paths are relative to /api/v1."""

    def __init__(self, user=None, tenant_slug: str | None = None):
        self.client = Client()
        if user is not None:
            # a session bound to the member's tenant (the header then names that same tenant);
            # a stranger to `tenant_slug` signs in to their own and the header is refused (403)
            tenant = Tenant.objects.filter(slug=tenant_slug, memberships__user=user).first()
            api_session_login(self.client, user, tenant)
        self.headers = {"X-Tenant": tenant_slug} if tenant_slug else {}

    def _call(self, method: str, path: str, body=None, *, content_type="application/json", **kw):
        data = body
        if body is not None and content_type == "application/json" and not isinstance(body, str):
            data = json.dumps(body, default=str)
        call = getattr(self.client, method)
        if body is None and method in ("get", "delete"):
            return call(API + path, kw.pop("params", None), headers=self.headers, **kw)
        return call(
            API + path,
            data=data if data is not None else "",
            content_type=content_type,
            headers=self.headers,
            **kw,
        )

    def get(self, path, params=None, **kw):
        return self.client.get(API + path, params, headers=self.headers, **kw)

    def post(self, path, body=None, **kw):
        return self._call("post", path, body if body is not None else {}, **kw)

    def patch(self, path, body=None, **kw):
        return self._call("patch", path, body if body is not None else {}, **kw)

    def put(self, path, body=None, **kw):
        return self._call("put", path, body if body is not None else {}, **kw)

    def delete(self, path, **kw):
        return self.client.delete(API + path, headers=self.headers, **kw)


@dataclass
class World:
    acme: object
    globex: object
    admin: object
    manager: object
    viewer: object
    member: object
    outsider: object

    def api(self, membership) -> Api:
        return Api(membership.user, membership.tenant.slug)


@pytest.fixture
def world(db) -> World:
    acme = make_tenant("acme")
    globex = make_tenant("globex")
    return World(
        acme=acme,
        globex=globex,
        admin=make_member(acme, "admin@acme.test", roles=["admin"], department="IT"),
        manager=make_member(acme, "manager@acme.test", roles=["manager"], department="QA"),
        viewer=make_member(acme, "viewer@acme.test", roles=["viewer"], department="QA"),
        member=make_member(acme, "member@acme.test", roles=["member"], department="Sales"),
        outsider=make_member(globex, "admin@globex.test", roles=["admin"]),
    )


@pytest.fixture
def api(world):
    return world.api


@pytest.fixture
def platform_admin(db):
    from tests.factories import make_user

    return make_user("root@platform.test", is_platform_admin=True)
