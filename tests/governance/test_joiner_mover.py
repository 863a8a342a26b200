"""Joiner template: roles by department/job title, MFA, welcome mail, first review due; movers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from tessera.access.models import Role
from tessera.access.selectors import membership_role_slugs
from tessera.access.services.assignments import role_assign
from tessera.access.services.roles import role_create
from tessera.audit.models import AuditEvent
from tessera.authn.flows.mfa import mfa_required_for
from tessera.lifecycle.first_review import first_reviews_start
from tessera.lifecycle.joiner import first_reviews_due
from tessera.lifecycle.models import JoinerRecord
from tessera.reviews.models import AccessReview
from tessera.tenancy.models import Membership
from tests.factories import make_member

pytestmark = pytest.mark.django_db

TEMPLATE = {
    "rules": [
        {"department": "QA", "roles": ["viewer"]},
        {"job_title": "Analyst", "roles": ["approver"]},
    ],
    "require_mfa": True,
    "welcome_mail": True,
    "first_review_after_days": 90,
}


def _slugs(membership):
    return membership_role_slugs(membership_id=membership.pk, now=timezone.now())


def _setup(world, api):
    role_create(
        tenant=world.acme,
        slug="approver",
        name="Approver",
        rules=[{"effect": "allow", "permission": "result:approve"}],
    )
    r = api(world.admin).put("/lifecycle/joiner-template", TEMPLATE)
    assert r.status_code == 200, r.content
    return r.json()


def _join(world, api, capture, **fields):
    mail.outbox.clear()
    body = {"email": "newcomer@acme.test", "password": "a long enough passphrase 1", **fields}
    with capture(execute=True):
        r = api(world.admin).post("/users", body)
    assert r.status_code == 201, r.content
    return Membership.objects.get(tenant=world.acme, user__email="newcomer@acme.test")


def test_a_joiner_gets_the_templates_roles_mfa_mail_and_review_date(
    world, api, django_capture_on_commit_callbacks
):
    saved = _setup(world, api)
    assert saved["rules"] == TEMPLATE["rules"] and saved["first_review_after_days"] == 90
    assert api(world.viewer).get("/lifecycle/joiner-template").json()["require_mfa"] is True
    joiner = _join(
        world, api, django_capture_on_commit_callbacks, department="QA", job_title="Analyst"
    )
    assert sorted(_slugs(joiner)) == [
        "approver",
        "viewer",
    ]
    record = JoinerRecord.objects.get(membership=joiner)
    due = record.first_review_due_at
    assert abs(due - (timezone.now() + timedelta(days=90))) < timedelta(minutes=1)
    assert mfa_required_for(membership=joiner, tenant=world.acme) is True
    assert not mfa_required_for(membership=world.member, tenant=world.acme)
    welcome = [m for m in mail.outbox if m.subject == "Welcome to Acme"]
    assert welcome and "viewer, approver" in welcome[0].body
    assert list(first_reviews_due(now=timezone.now())) == []
    assert [r.membership_id for r in first_reviews_due(now=due)] == [joiner.pk]


def test_a_mover_loses_the_old_template_roles_and_gains_the_new_in_one_event(
    world, api, django_capture_on_commit_callbacks
):
    _setup(world, api)
    joiner = _join(
        world, api, django_capture_on_commit_callbacks, department="QA", job_title="Analyst"
    )
    role_assign(membership=joiner, role=Role.objects.get(tenant=world.acme, slug="member"))
    before = set(AuditEvent.objects.values_list("id", flat=True))
    r = api(world.admin).patch(
        f"/users/{joiner.user_id}", {"department": "Sales", "job_title": "Lead"}
    )
    assert r.status_code == 200, r.content
    assert _slugs(joiner) == ["member"]  # not a template role
    new = AuditEvent.objects.exclude(id__in=before)
    assert [e.type for e in new] == ["MEMBER_MOVED"]
    assert new[0].changes["template_roles"] == {"removed": ["approver", "viewer"], "added": []}
    assert new[0].changes["after"] == {"department": "Sales", "job_title": "Lead"}

    r = api(world.admin).patch(f"/users/{joiner.user_id}", {"department": "QA"})
    assert sorted(_slugs(joiner)) == [
        "member",
        "viewer",
    ]
    assert JoinerRecord.objects.get(membership=joiner).template_roles == ["viewer"]


def test_without_a_template_a_change_stays_a_profile_update(world, api):
    r = api(world.admin).patch(f"/users/{world.member.user_id}", {"department": "Ops"})
    assert r.status_code == 200
    assert AuditEvent.objects.filter(type="PROFILE_UPDATE").count() == 1
    assert not AuditEvent.objects.filter(type="MEMBER_MOVED").exists()


def test_bad_templates_are_refused(world, api):
    _setup(world, api)
    r = api(world.manager).put("/lifecycle/joiner-template", TEMPLATE)
    assert r.status_code == 403
    bad = api(world.admin).put(
        "/lifecycle/joiner-template",
        {"rules": [{"department": "QA", "roles": ["ghost"]}, {"colour": "red", "roles": []}]},
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"rules[0].roles[0]", "rules[1]"}
    days = api(world.admin).put("/lifecycle/joiner-template", {"first_review_after_days": 0})
    assert days.status_code == 422


def test_a_template_hands_out_only_roles_its_author_holds(world, api):
    role_create(
        tenant=world.acme,
        slug="settings",
        name="Settings",
        rules=[{"effect": "allow", "permission": "tenant:*"}],
    )
    settings_holder = make_member(world.acme, "settings@acme.test", roles=["viewer", "settings"])
    r = api(settings_holder).put("/lifecycle/joiner-template", {"rules": [{"roles": ["admin"]}]})
    assert r.status_code == 403 and r.json()["code"] == "not_held"
    assert not AuditEvent.objects.filter(type="JOINER_TEMPLATE_CHANGED").exists()


def test_the_first_review_opens_on_its_day_once_with_the_manager_as_reviewer(
    world, api, django_capture_on_commit_callbacks
):
    _setup(world, api)
    joiner = _join(
        world, api, django_capture_on_commit_callbacks, department="QA", job_title="Analyst"
    )
    Membership.objects.filter(pk=joiner.pk).update(manager=world.manager)
    due = JoinerRecord.objects.get(membership=joiner).first_review_due_at
    assert first_reviews_start(now=due - timedelta(seconds=1)) == 0
    assert first_reviews_start(now=due) == 1
    assert first_reviews_start(now=due + timedelta(days=1)) == 0  # once
    review = AccessReview.objects.get(tenant=world.acme)
    items = list(review.items.all())
    assert {i.membership_id for i in items} == {joiner.pk}
    assert {i.reviewer_id for i in items} == {world.manager.pk}
    assert sorted(i.role.slug for i in items if i.kind == "role") == ["approver", "viewer"]
