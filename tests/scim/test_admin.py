"""The admin site: a platform administrator creates a SCIM token (shown once) and revokes it."""

from __future__ import annotations

import pytest
from django.test import Client

from tessera.audit.models import AuditEvent, AuditEventType
from tessera.scim.models import ScimToken
from tessera.testing import admin_session_login
from tests.factories import make_tenant, make_user


@pytest.fixture
def admin_client(db):
    client = Client()
    admin_session_login(client, make_user("root@platform.test", is_platform_admin=True))
    return client


def test_create_shows_the_token_once_and_revoke_audits(admin_client):
    tenant = make_tenant("acme")
    answer = admin_client.post(
        "/admin/scim/scimtoken/add/", {"tenant": tenant.pk, "name": "Okta"}, follow=True
    )
    assert answer.status_code == 200
    token = ScimToken.objects.get(tenant=tenant)
    page = answer.content.decode()
    (raw,) = [w for w in page.split() if w.startswith(f"tscim_{token.prefix}_")]
    assert token.token_hash not in page
    listing = admin_client.get("/admin/scim/scimtoken/").content.decode()
    assert raw.rstrip("<") not in listing
    admin_client.post(
        "/admin/scim/scimtoken/",
        {"action": "revoke_tokens", "_selected_action": [str(token.pk)]},
    )
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEvent.objects.filter(type=AuditEventType.SCIM_TOKEN_REVOKED).count() == 1
