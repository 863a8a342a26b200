"""/api/v1/identity-providers and /api/v1/domains over HTTP: permissions, validation, secrecy,
tenant isolation, audit."""

from __future__ import annotations

import pytest

from tessera.audit.models import AuditEvent
from tessera.crypto import unseal
from tessera.directory.domains import domain_claim
from tessera.sso.models import IdentityProvider
from tessera.sso.providers import SECRET_PURPOSE
from tests.access.helpers import allow, make_role
from tests.api.conftest import Api
from tests.directory.conftest import dns_records  # noqa: F401  (fixture)
from tests.factories import make_member, make_tenant, make_user

pytestmark = pytest.mark.django_db

SECRET = "the-client-secret-shown-once"
BODY = {
    "kind": "okta",
    "name": "Okta",
    "issuer": "https://acme.okta.example",
    "client_id": "0oa123",
    "client_secret": SECRET,
    "jit": True,
    "return_origins": ["https://app.acme.example"],
    "group_mapping": [{"group": "Lab", "roles": ["viewer"]}],
}


@pytest.fixture
def admin(acme):
    return Api(make_member(acme, "root@acme.example", roles=["admin"]).user, "acme")


def test_an_admin_registers_a_provider_and_never_sees_the_secret_again(admin, acme):
    created = admin.post("/identity-providers", BODY)
    assert created.status_code == 201, created.content
    body = created.json()
    assert SECRET not in created.content.decode()
    assert body["client_secret_set"] is True
    assert body["scopes"] == ["openid", "email", "profile", "groups"]  # the okta preset
    assert body["group_claim"] == "groups"
    assert body["group_mapping"] == [{"group": "Lab", "roles": ["viewer"]}]
    assert body["redirect_uri"].endswith("/api/v1/auth/sso/callback")
    provider = IdentityProvider.objects.get(pk=body["id"])
    assert SECRET not in provider.client_secret_sealed
    opened = unseal(
        provider.client_secret_sealed, purpose=SECRET_PURPOSE, context=str(provider.pk).encode()
    )
    assert opened.decode() == SECRET
    listed = admin.get("/identity-providers")
    assert [p["id"] for p in listed.json()["items"]] == [body["id"]]
    assert SECRET not in listed.content.decode()
    event = AuditEvent.objects.get(type="IDP_CREATED")
    assert event.changes["client_secret_set"] is True and SECRET not in str(event.changes)

    changed = admin.patch(f"/identity-providers/{body['id']}", {"enabled": False, "name": "Okta 2"})
    assert changed.status_code == 200 and changed.json()["enabled"] is False
    assert AuditEvent.objects.get(type="IDP_UPDATED").changes["enabled"] == {
        "before": True,
        "after": False,
    }
    assert admin.delete(f"/identity-providers/{body['id']}").status_code == 204
    assert AuditEvent.objects.filter(type="IDP_DELETED").count() == 1
    assert admin.get(f"/identity-providers/{body['id']}").status_code == 404


@pytest.mark.parametrize(
    "change, field",
    [
        ({"issuer": "http://idp.example"}, "issuer"),
        ({"kind": "saml"}, "kind"),
        ({"return_origins": ["https://app.example/path"]}, "return_origins[0]"),
        ({"claim_mapping": {"password": "x"}}, "claim_mapping.password"),
        ({"claim_mapping": {"department": "dept|reverse"}}, "claim_mapping.department"),
        ({"default_roles": ["nope"]}, "default_roles"),
        ({"group_mapping": [{"group": "g", "roles": ["nope"]}]}, "group_mapping[0].roles"),
        ({"scopes": ["openid email"]}, "scopes"),
        ({"jwks_uri": "ftp://x"}, "jwks_uri"),
    ],
)
def test_bad_provider_bodies_answer_422_naming_the_field(admin, change, field):
    answer = admin.post("/identity-providers", {**BODY, **change})
    assert answer.status_code == 422, answer.content
    fields = {e["field"] for e in answer.json().get("errors") or []}
    assert any(f.endswith(field) for f in fields), answer.json()
    assert not IdentityProvider.objects.exists()


def test_only_idp_permissions_open_the_providers(acme):
    viewer = Api(make_member(acme, "v@acme.example", roles=["viewer"]).user, "acme")
    assert viewer.get("/identity-providers").status_code == 403
    assert viewer.post("/identity-providers", BODY).status_code == 403
    make_role(acme, "idp-reader", allow("idp:read"))
    reader = Api(make_member(acme, "r@acme.example", roles=["idp-reader"]).user, "acme")
    assert reader.get("/identity-providers").status_code == 200
    assert reader.post("/identity-providers", BODY).status_code == 403
    assert Api().get("/identity-providers").status_code == 401


def test_another_tenants_provider_is_not_found(admin, acme):
    globex = make_tenant("globex")
    outsider = Api(make_member(globex, "o@globex.example", roles=["admin"]).user, "globex")
    pid = admin.post("/identity-providers", BODY).json()["id"]
    assert outsider.get(f"/identity-providers/{pid}").status_code == 404
    assert outsider.patch(f"/identity-providers/{pid}", {"name": "x"}).status_code == 404
    assert outsider.delete(f"/identity-providers/{pid}").status_code == 404
    assert outsider.get("/identity-providers").json()["items"] == []


def test_no_one_configures_a_provider_to_hand_out_roles_they_do_not_hold(acme):
    make_role(acme, "idp-admin", allow("idp:create"), allow("idp:update"), allow("idp:read"))
    make_role(acme, "approver", allow("sample:approve"))
    config = Api(make_member(acme, "c@acme.example", roles=["idp-admin"]).user, "acme")
    answer = config.post("/identity-providers", {**BODY, "default_roles": ["approver"]})
    assert answer.status_code == 403 and answer.json()["code"] == "not_held"
    answer = config.post(
        "/identity-providers",
        {**BODY, "group_mapping": [{"group": "x", "roles": ["approver"]}]},
    )
    assert answer.status_code == 403
    assert not IdentityProvider.objects.exists()


def test_entra_presets_build_single_and_multi_tenant_issuers(admin):
    single = admin.post(
        "/identity-providers",
        {
            "kind": "entra",
            "name": "Entra",
            "client_id": "app",
            "entra_tenant_id": "0" * 8 + "-0000-0000-0000-" + "0" * 12,
        },
    ).json()
    assert single["issuer"] == (
        "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0"
    )
    multi = admin.post(
        "/identity-providers",
        {
            "kind": "entra",
            "name": "Entra MT",
            "client_id": "app",
            "entra_tenant_id": "organizations",
        },
    ).json()
    assert multi["issuer"] == "https://login.microsoftonline.com/{tid}/v2.0"
    google = admin.post(
        "/identity-providers",
        {"kind": "google", "name": "Google", "client_id": "g", "hosted_domain": "acme.example"},
    ).json()
    assert google["issuer"] == "https://accounts.google.com"


# --- domains -------------------------------------------------------------------------------------


def test_domains_are_claimed_verified_by_dns_and_listed(admin, acme, dns_records):  # noqa: F811
    claimed = admin.post("/domains", {"domain": "Lab.Acme.example"})
    assert claimed.status_code == 201, claimed.content
    body = claimed.json()
    assert body["domain"] == "lab.acme.example" and body["verified_at"] is None
    assert body["verification"]["type"] == "dns-txt"
    assert body["verification"]["name"] == "_tessera-challenge.lab.acme.example"
    failed = admin.post(f"/domains/{body['id']}/verify")
    assert failed.status_code == 409 and failed.json()["code"] == "domain_not_verified"
    dns_records[body["verification"]["name"]] = [body["verification"]["value"]]
    verified = admin.post(f"/domains/{body['id']}/verify")
    assert verified.status_code == 200 and verified.json()["verified_at"]
    items = admin.get("/domains").json()["items"]
    assert [d["domain"] for d in items] == ["acme.example", "lab.acme.example"]
    assert admin.post("/domains", {"domain": "not a domain"}).status_code == 422
    assert admin.delete(f"/domains/{body['id']}").status_code == 204


def test_domains_of_another_tenant_are_not_found_and_viewers_cannot_claim(admin, acme):
    mine = admin.post("/domains", {"domain": "mine.example"}).json()["id"]
    globex = make_tenant("globex")
    outsider = Api(make_member(globex, "o@globex.example", roles=["admin"]).user, "globex")
    assert outsider.post(f"/domains/{mine}/verify").status_code == 404
    assert outsider.delete(f"/domains/{mine}").status_code == 404
    viewer = Api(make_member(acme, "v@acme.example", roles=["viewer"]).user, "acme")
    assert viewer.post("/domains", {"domain": "x.example"}).status_code == 403


def test_a_platform_administrator_approves_a_claim(acme):
    claim = domain_claim(tenant=acme, domain="approved.example")
    operator = Api(make_user("ops@platform.example", is_platform_admin=True))
    path = f"/tenants/{acme.pk}/domains/{claim.pk}/approve"
    answer = operator.post(path)
    assert answer.status_code == 200, answer.content
    assert answer.json()["verified_by"] == "platform"
    tenant_admin = Api(make_member(acme, "a@acme.example", roles=["admin"]).user, "acme")
    second = domain_claim(tenant=acme, domain="other.example")
    assert tenant_admin.post(f"/tenants/{acme.pk}/domains/{second.pk}/approve").status_code == 403
