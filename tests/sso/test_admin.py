"""The admin site registers identity providers and approves domains through the services."""

from __future__ import annotations

import pytest
from django.test import Client

from tessera.audit.models import AuditEvent
from tessera.directory.domains import domain_claim
from tessera.directory.models import Domain
from tessera.sso.models import IdentityProvider
from tessera.testing import admin_session_login
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator():
    client = Client()
    admin_session_login(client, make_user("ops@platform.example", is_platform_admin=True))
    return client


def test_a_provider_registered_in_the_admin_has_its_secret_sealed_and_preset(operator, acme):
    answer = operator.post(
        "/admin/sso/identityprovider/add/",
        {
            "tenant": str(acme.pk),
            "kind": "okta",
            "name": "Okta",
            "issuer": "https://acme.okta.example",
            "client_id": "0oa1",
            "client_secret": "admin-typed-secret",
            "enabled": "on",
            "claim_mapping": "{}",
            "return_origins": '["https://app.acme.example"]',
        },
    )
    assert answer.status_code == 302, answer.content[:3000]
    provider = IdentityProvider.objects.get()
    assert provider.scopes == ["openid", "email", "profile", "groups"]
    assert provider.client_secret_sealed.startswith("v1:")
    assert "admin-typed-secret" not in provider.client_secret_sealed
    assert AuditEvent.objects.filter(type="IDP_CREATED", tenant_id=acme.pk).exists()
    page = operator.get(f"/admin/sso/identityprovider/{provider.pk}/change/")
    assert page.status_code == 200 and b"admin-typed-secret" not in page.content
    bad = operator.post(
        f"/admin/sso/identityprovider/{provider.pk}/change/",
        {
            "name": "Okta",
            "issuer": "http://plain.example",
            "client_id": "0oa1",
            "claim_mapping": "{}",
            "return_origins": "[]",
        },
    )
    assert bad.status_code == 302  # refused by the service: shown as a message, nothing saved
    assert IdentityProvider.objects.get().issuer == "https://acme.okta.example"


def test_an_operator_approves_a_domain_claim_in_the_admin(operator, acme):
    claim = domain_claim(tenant=acme, domain="lab.example")
    answer = operator.post(
        "/admin/directory/domain/", {"action": "approve", "_selected_action": [str(claim.pk)]}
    )
    assert answer.status_code == 302
    assert Domain.objects.get(pk=claim.pk).verified_by == "platform"
