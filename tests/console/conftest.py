"""The console's world: a tenant with an administrator, a manager, a viewer and a plain member,
and a test client signed in as any of them through the hosted pages' session cookie."""

from __future__ import annotations

import pytest
from django.test import Client

from tessera.authn.flows.login import login_password
from tessera.authn.request_auth import SESSION_COOKIE, session_cookie_value
from tests.factories import DEFAULT_PASSWORD, make_member, make_tenant


def sign_in(client: Client, membership):
    """Bind `client` to a new web session of the member in their tenant; the session."""
    outcome = login_password(
        email=membership.user.email,
        password=DEFAULT_PASSWORD,
        tenant=membership.tenant.slug,
        purpose="web",
    )
    session = outcome.session
    client.cookies[SESSION_COOKIE] = session_cookie_value(
        session_id=session.pk,
        user_id=session.user_id,
        tenant_id=session.tenant_id,
        membership_id=session.membership_id,
    )
    return session


@pytest.fixture
def acme(db):
    tenant = make_tenant("acme")
    return {
        "tenant": tenant,
        "admin": make_member(tenant, "ada@acme.test", roles=["admin"]),
        "manager": make_member(tenant, "max@acme.test", roles=["manager"]),
        "viewer": make_member(tenant, "vic@acme.test", roles=["viewer"]),
        "member": make_member(tenant, "mo@acme.test", roles=["member"]),
    }


@pytest.fixture
def globex(db):
    tenant = make_tenant("globex")
    return {"tenant": tenant, "admin": make_member(tenant, "gia@globex.test", roles=["admin"])}


@pytest.fixture
def as_admin(client, acme):
    sign_in(client, acme["admin"])
    return client


@pytest.fixture
def as_manager(client, acme):
    sign_in(client, acme["manager"])
    return client
