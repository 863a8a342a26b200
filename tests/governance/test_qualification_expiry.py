"""Expiry alerts: holders and managers mailed N days ahead (tenant setting), once; a real-time
`qualification.expiring` event on their sockets; `tessera qualifications notify` runs it."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.core import mail
from django.core.management import call_command
from django.db import connections
from django.utils import timezone

from tessera.qualifications.expiry import qualifications_expiry_notify
from tessera.qualifications.models import QualificationRecord, QualificationType
from tessera.realtime.groups import user_group
from tessera.tenancy.services import tenant_settings_update
from tests.factories import make_member, make_tenant


def _world(notice_days=14):
    tenant = make_tenant("lab")
    tenant_settings_update(
        tenant=tenant, patch={"qualifications": {"expiry_notice_days": notice_days}}
    )
    boss = make_member(tenant, "boss@lab.test", roles=["admin"])
    analyst = make_member(tenant, "analyst@lab.test", roles=["member"], manager=boss)
    hplc = QualificationType.objects.create(tenant=tenant, code="hplc", name="HPLC method")
    now = timezone.now()

    def record(days, **kw):
        return QualificationRecord.objects.create(
            tenant=tenant,
            membership=analyst,
            type=hplc,
            level=3,
            verified_by=boss,
            valid_from=now - timedelta(days=300),
            valid_until=now + timedelta(days=days),
            **kw,
        )

    return tenant, boss, analyst, record, now


@pytest.mark.django_db
def test_holders_and_managers_are_mailed_once_within_the_notice_period(
    django_capture_on_commit_callbacks,
):
    _, boss, analyst, record, now = _world(notice_days=14)
    soon = record(10)
    record(30)  # outside the notice period
    record(5, revoked_at=now)  # revoked: never announced
    with django_capture_on_commit_callbacks(execute=True):
        run = qualifications_expiry_notify(now=now)
    assert (run.records, run.mails) == (1, 2)
    assert sorted(m.to[0] for m in mail.outbox) == ["analyst@lab.test", "boss@lab.test"]
    own = next(m for m in mail.outbox if m.to == ["analyst@lab.test"])
    assert own.subject.startswith("Your HPLC method qualification expires on")
    assert "analyst@lab.test" in next(m for m in mail.outbox if m.to == ["boss@lab.test"]).body
    soon.refresh_from_db()
    assert soon.expiry_notified_at == now

    with django_capture_on_commit_callbacks(execute=True):
        again = qualifications_expiry_notify(now=now + timedelta(days=1))
    assert again.records == 0 and len(mail.outbox) == 2
    with django_capture_on_commit_callbacks(execute=True):
        later = qualifications_expiry_notify(now=now + timedelta(days=17))
    assert later.records == 1 and len(mail.outbox) == 4  # the 30-day one is now within 14 days


@pytest.mark.django_db
def test_a_notice_period_of_zero_sends_nothing_and_the_command_reports():
    _, _, _, record, _ = _world(notice_days=0)
    record(1)
    out = StringIO()
    call_command("qualifications", "notify", stdout=out)
    assert "0 expiring qualification(s) announced, 0 mail(s)" in out.getvalue()
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
async def test_the_holder_and_the_manager_hear_a_realtime_event():
    tenant, boss, analyst, record, now = await sync_to_async(_world)()
    soon = await sync_to_async(record)(3)
    layer = get_channel_layer()
    channels = {}
    for who in (analyst, boss):
        channels[who.user_id] = await layer.new_channel()
        await layer.group_add(user_group(who.user_id), channels[who.user_id])
    await sync_to_async(qualifications_expiry_notify)(now=now)
    await sync_to_async(connections.close_all)()  # the executor thread's connection
    for channel in channels.values():
        message = await layer.receive(channel)
        payload = message["payload"]
        assert payload["type"] == "qualification.expiring"
        assert payload["user_id"] == str(analyst.user_id)
        assert payload["qualification_id"] == str(soon.pk)
        assert (payload["code"], payload["level"]) == ("hplc", 3)
        assert payload["tenant_id"] == str(tenant.pk)
