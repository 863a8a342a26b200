"""The admin site lists qualifications and offboardings; revoking there goes through the service."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from tessera.audit.models import AuditEvent
from tessera.lifecycle.models import Offboarding
from tessera.qualifications.models import QualificationRecord, QualificationType
from tessera.tenancy.models import Membership
from tessera.testing import admin_session_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(platform_admin):
    client = Client()
    admin_session_login(client, platform_admin)
    return client


def _record(world):
    return QualificationRecord.objects.create(
        tenant=world.acme,
        membership=world.member,
        type=QualificationType.objects.create(tenant=world.acme, code="gc", name="GC"),
        level=1,
        valid_from=timezone.now(),
    )


def test_the_pages_render(admin_client, world):
    record = _record(world)
    Offboarding.objects.create(
        tenant=world.acme,
        membership=world.viewer,
        user_id=world.viewer.user_id,
        erase_at=timezone.now(),
        export={"profile": {"email": "viewer@acme.test"}},
    )
    for page in (
        "/admin/qualifications/qualificationtype/",
        "/admin/qualifications/qualificationrecord/",
        f"/admin/qualifications/qualificationrecord/{record.pk}/change/",
        "/admin/lifecycle/offboarding/",
        "/admin/lifecycle/joinertemplate/",
    ):
        assert admin_client.get(page).status_code == 200, page
    offboarding = Offboarding.objects.get()
    page = admin_client.get(f"/admin/lifecycle/offboarding/{offboarding.pk}/change/")
    assert page.status_code == 200 and b"viewer@acme.test" not in page.content


def test_revoking_in_the_admin_is_audited_and_rebuilds_the_policy(admin_client, world):
    record = _record(world)
    version = Membership.objects.get(pk=world.member.pk).version
    response = admin_client.post(
        "/admin/qualifications/qualificationrecord/",
        {"action": "revoke", "_selected_action": [str(record.pk)]},
    )
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.revoked_at is not None
    assert Membership.objects.get(pk=world.member.pk).version > version
    event = AuditEvent.objects.get(type="QUALIFICATION_REVOKED")
    assert event.changes["reason"] == "revoked in the admin site"
