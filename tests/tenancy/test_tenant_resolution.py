import pytest
from tests.factories import make_member

from tessera.tenancy.services import membership_set_status
from tessera.testing import api_session_login

pytestmark = pytest.mark.urls("tests.foundation.urls")


def test_a_member_acts_in_the_tenant_named_by_the_header(client, tenant):
    member = make_member(tenant, "m@example.test")
    api_session_login(client, member.user)
    r = client.get("/t/whoami", headers={"X-Tenant": "acme"})
    assert r.status_code == 200
    assert r.json() == {"tenant": "acme", "membership": str(member.pk)}


def test_a_non_member_is_refused_with_403(client, tenant, other_tenant):
    member = make_member(other_tenant, "x@example.test")
    api_session_login(client, member.user)
    r = client.get("/t/whoami", headers={"X-Tenant": "acme"})
    assert r.status_code == 403
    assert r["Content-Type"] == "application/problem+json"


def test_a_suspended_member_is_refused(client, tenant):
    member = make_member(tenant, "s@example.test")
    membership_set_status(membership=member, status="suspended")
    api_session_login(client, member.user)
    assert client.get("/t/whoami", headers={"X-Tenant": "acme"}).status_code == 403


def test_an_unknown_tenant_is_404(client, tenant):
    r = client.get("/t/whoami", headers={"X-Tenant": "nope"})
    assert r.status_code == 404
    assert r.json()["status"] == 404


def test_a_bound_session_acts_in_its_tenant_without_a_hint(client, tenant):
    member = make_member(tenant, "b@example.test")
    api_session_login(client, member.user)
    assert client.get("/t/whoami").json() == {"tenant": "acme", "membership": str(member.pk)}


def test_the_tenant_can_come_from_a_subdomain(client, tenant, settings):
    settings.BASE_DOMAIN = "tessera.test"
    settings.ALLOWED_HOSTS = [".tessera.test"]
    member = make_member(tenant, "sub@example.test")
    api_session_login(client, member.user)
    r = client.get("/t/whoami", HTTP_HOST="acme.tessera.test")
    assert r.json()["tenant"] == "acme"


def test_no_hint_means_no_tenant(client, tenant, other_tenant):
    assert client.get("/t/whoami").json() == {"tenant": None, "membership": None}
    member = make_member(tenant, "n@example.test")
    make_member(other_tenant, user=member.user)
    api_session_login(client, member.user)  # two memberships: a session bound to no tenant
    assert client.get("/t/whoami").json() == {"tenant": None, "membership": None}
