"""Races on PostgreSQL: two offboardings of one member, two expiry runs, two erasure runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from tessera.lifecycle.models import Offboarding
from tessera.lifecycle.offboarding import offboardings_erase_due
from tessera.qualifications.expiry import qualifications_expiry_notify
from tessera.qualifications.models import QualificationRecord, QualificationType
from tessera.tenancy.models import Membership
from tests.api.conftest import Api
from tests.api.test_concurrency import race
from tests.factories import make_member, make_tenant
from tests.ownership.test_races import race as together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_concurrent_offboardings_of_one_member_give_one_200_and_one_409():
    acme = make_tenant("acme")
    admins = [make_member(acme, f"admin{i}@acme.test", roles=["admin"]) for i in range(2)]
    leaver = make_member(acme, "leaver@acme.test", roles=["member"])
    clients = [Api(a.user, "acme") for a in admins]
    path = f"/users/{leaver.user_id}/offboard"
    assert race(*(lambda c=c: c.post(path, {}) for c in clients)) == [200, 409]
    assert Offboarding.objects.filter(membership=leaver).count() == 1


def test_concurrent_expiry_runs_announce_each_record_once():
    lab = make_tenant("lab")
    holder = make_member(lab, "holder@lab.test", roles=["member"])
    hplc = QualificationType.objects.create(tenant=lab, code="hplc", name="HPLC")
    now = timezone.now()
    for _ in range(5):
        QualificationRecord.objects.create(
            tenant=lab,
            membership=holder,
            type=hplc,
            level=2,
            valid_from=now - timedelta(days=1),
            valid_until=now + timedelta(days=3),
        )
    runs = together(*(lambda: qualifications_expiry_notify(now=now) for _ in range(2)))
    assert sum(run.records for run in runs) == 5
    assert len(mail.outbox) == 5


def test_concurrent_erasure_runs_erase_once():
    acme = make_tenant("acme")
    admin = make_member(acme, "admin@acme.test", roles=["admin"])
    leaver = make_member(acme, "leaver@acme.test", roles=["member"])
    r = Api(admin.user, "acme").post(f"/users/{leaver.user_id}/offboard", {"erase_after_days": 0})
    assert r.status_code == 200
    later = timezone.now() + timedelta(seconds=1)
    assert sorted(together(*(lambda: offboardings_erase_due(now=later) for _ in range(2)))) == [
        0,
        1,
    ]
    assert not Membership.objects.filter(pk=leaver.pk).exists()
