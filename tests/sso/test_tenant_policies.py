"""What the tenant decides: SSO required (no password), MFA through the provider's `amr`,
Entra `{tid}` issuers, Google `hd`, group overage; and home-realm discovery."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.utils import timezone

from tessera.access.selectors import membership_role_slugs
from tessera.authn.models import Session
from tessera.directory.groups import group_mapping_set
from tessera.sso.models import IdentityProvider
from tessera.tenancy.models import Membership
from tessera.tenancy.services import tenant_settings_update
from tests.access.helpers import allow, make_role
from tests.factories import DEFAULT_PASSWORD, make_member
from tests.sso.conftest import code_of, register

pytestmark = pytest.mark.django_db

ANN = {"email": "ann@acme.example", "email_verified": True}


def _slugs(membership):
    return membership_role_slugs(membership_id=membership.pk, now=timezone.now())


def login(email: str, password: str = DEFAULT_PASSWORD):
    return Client().post(
        "/api/v1/auth/login",
        json.dumps({"email": email, "password": password}),
        content_type="application/json",
    )


def discover(email: str):
    return Client().post(
        "/api/v1/auth/sso/discover", json.dumps({"email": email}), content_type="application/json"
    )


def test_an_sso_required_tenant_refuses_the_password_and_says_where_to_sign_in(acme, own_idp):
    member = make_member(acme, "ann@acme.example", roles=["viewer"])
    assert login("ann@acme.example").status_code == 200
    sessions = Session.objects.filter(user=member.user).count()
    provider = register(acme, own_idp.base)
    tenant_settings_update(tenant=acme, patch={"sso": {"required": True}})
    refused = login("ann@acme.example")
    assert refused.status_code == 403
    body = refused.json()
    assert body["code"] == "sso_required"
    assert body["provider_id"] == str(provider.pk)
    assert body["start_url"].endswith(f"/api/v1/auth/sso/{provider.pk}/start")
    assert body["tenant"] == "acme"
    # the same answer for an address with no account, and for a wrong password
    assert login("nobody@acme.example").json()["code"] == "sso_required"
    assert login("ann@acme.example", "wrong password!").json()["code"] == "sso_required"
    # other domains still sign in with a password
    make_member(acme, "guest@elsewhere.example", roles=["viewer"])
    assert login("guest@elsewhere.example").status_code == 200
    assert Session.objects.filter(user=member.user).count() == sessions


def test_discovery_routes_a_verified_domain_to_its_provider(acme, own_idp):
    assert discover("ann@acme.example").json() == {
        "sso": False,
        "provider_id": None,
        "start_url": None,
    }
    provider = register(acme, own_idp.base)
    routed = discover("Ann@ACME.example").json()
    assert routed["sso"] is True and routed["provider_id"] == str(provider.pk)
    assert discover("ann@other.example").json()["sso"] is False
    assert discover("not an address").json()["sso"] is False
    IdentityProvider.objects.update(enabled=False)
    assert discover("ann@acme.example").json()["sso"] is False


def test_the_tenant_decides_whether_the_providers_amr_counts_as_mfa(flow, acme, own_idp):
    tenant_settings_update(tenant=acme, patch={"mfa": {"required": "all"}})
    idp = register(acme, own_idp.base)
    own_idp.users["ann"] = {**ANN, "amr": ["pwd", "mfa"]}
    login = flow.exchange(code_of(flow.sign_in(idp, "ann", own=True))).json()
    assert login["mfa_setup_required"] is True  # amr not trusted: the tenant's own MFA applies
    tenant_settings_update(tenant=acme, patch={"sso": {"mfa_from_provider": True}})
    login = flow.exchange(code_of(flow.sign_in(idp, "ann", own=True))).json()
    assert login["mfa_setup_required"] is False
    session = Session.objects.get(pk=login["session_id"])
    assert session.auth_method == "sso+mfa" and session.mfa_verified_at is not None
    own_idp.users["ann"] = {**ANN, "amr": ["pwd"]}  # a password alone is not MFA
    login = flow.exchange(code_of(flow.sign_in(idp, "ann", own=True))).json()
    assert login["mfa_setup_required"] is True


def test_an_entra_multi_tenant_issuer_is_checked_against_the_tokens_tid(flow, acme, own_idp):
    own_idp.issuer_template = own_idp.base + "/{tid}/v2.0"
    idp = register(
        acme,
        own_idp.base + "/{tid}/v2.0",
        kind="entra",
        discovery_url=own_idp.base + "/.well-known/openid-configuration",
        allowed_tenants=[own_idp.tid],
    )
    own_idp.users["ann"] = {"email": "ann@acme.example", "xms_edov": True}
    assert flow.exchange(code_of(flow.sign_in(idp, "ann", own=True))).status_code == 200
    # a token whose iss names another directory than its tid
    own_idp.next_token = {"iss": own_idp.base + "/99999999-0000-0000-0000-000000000000/v2.0"}
    assert flow.sign_in(idp, "ann", own=True).status_code == 401
    # a directory this provider does not allow
    own_idp.tid = "99999999-0000-0000-0000-000000000000"
    assert flow.sign_in(idp, "ann", own=True).json()["code"] == "sso_token_invalid"


def test_entra_emails_count_as_verified_only_with_xms_edov(flow, acme, own_idp):
    idp = register(acme, own_idp.base, kind="entra")
    own_idp.users["ann"] = {"email": "ann@acme.example", "email_verified": True}
    assert flow.sign_in(idp, "ann", own=True).json()["code"] == "sso_email_not_verified"


def test_google_accounts_outside_the_workspace_domain_are_refused(flow, acme, own_idp):
    idp = register(acme, own_idp.base, kind="google", hosted_domain="acme.example")
    IdentityProvider.objects.filter(pk=idp.pk).update(issuer=own_idp.base)  # our stand-in
    idp.refresh_from_db()
    own_idp.users["ann"] = {**ANN, "hd": "gmail.com"}
    assert flow.sign_in(idp, "ann", own=True).json()["code"] == "sso_token_invalid"
    own_idp.users["ann"] = {**ANN, "hd": "acme.example"}
    assert flow.exchange(code_of(flow.sign_in(idp, "ann", own=True))).status_code == 200


def test_a_groups_overage_keeps_the_mapped_roles_and_a_prefix_filters_groups(flow, acme, own_idp):
    make_role(acme, "analyst", allow("sample:read"))
    group_mapping_set(
        tenant=acme,
        mapping=[{"group": "app-lab", "roles": ["analyst"]}, {"group": "lab", "roles": ["admin"]}],
    )
    idp = register(acme, own_idp.base, group_prefix="app-")
    own_idp.users["ann"] = {**ANN, "groups": ["app-lab", "lab"]}
    flow.exchange(code_of(flow.sign_in(idp, "ann", own=True)))
    member = Membership.objects.get(user__email="ann@acme.example")
    assert _slugs(member) == ["analyst"]  # "lab" is filtered out
    own_idp.users["ann"] = {**ANN, "_claim_names": {"groups": "src1"}, "_claim_sources": {}}
    flow.exchange(code_of(flow.sign_in(idp, "ann", own=True)))
    assert _slugs(member) == ["analyst"]
