"""Access reviews (#15 item 3): a campaign from creation to report, the reviewer rule, revocations
that hold on the next request, reminders for overdue items, and bad input."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from tessera.access.models import Grant, MembershipOverride, RoleAssignment
from tessera.access.services.assignments import role_assign
from tessera.access.services.grants import grant_create
from tessera.access.services.overrides import overrides_set
from tessera.access.services.roles import role_create
from tessera.audit.models import AuditEvent, AuditEventType
from tessera.reviews.models import AccessReview, AccessReviewItem, Decision
from tessera.reviews.reminders import access_reviews_remind
from tessera.reviews.services import access_review_create_for_member
from tests.authn.conftest import bearer, login, post
from tests.factories import make_member, make_tenant

REVIEWS = "/api/v1/access-reviews"


class World:
    def __init__(self):
        self.acme = make_tenant("acme")
        self.admin = make_member(self.acme, "admin@acme.test", roles=["admin"])
        self.manager = make_member(self.acme, "maria@acme.test", roles=["manager"])
        analyst = role_create(
            tenant=self.acme,
            slug="analyst",
            name="Analyst",
            rules=[{"effect": "allow", "permission": "report:approve", "scope": "all"}],
        )
        self.alice = make_member(
            self.acme, "alice@acme.test", roles=["member"], department="Lab", manager=self.manager
        )
        role_assign(membership=self.alice, role=analyst)
        self.grant = grant_create(
            tenant=self.acme,
            permission="document:read",
            resource_type="document",
            resource_id="42",
            membership=self.alice,
        )
        overrides_set(
            membership=self.alice,
            rules=[{"effect": "allow", "permission": "sample:read", "scope": "all"}],
        )
        self.bob = make_member(self.acme, "bob@acme.test", roles=["viewer"], department="Lab")
        self.carol = make_member(self.acme, "carol@acme.test", roles=["viewer"])
        globex = make_tenant("globex")
        self.outsider = make_member(globex, "out@globex.test", roles=["admin"])
        self.client = Client()
        self.tokens: dict[str, str] = {}

    def token(self, membership) -> str:
        email = membership.user.email
        if email not in self.tokens:
            response = login(self.client, email)
            assert response.status_code == 200, response.content
            self.tokens[email] = response.json()["access_token"]
        return self.tokens[email]

    def get(self, who, path, **params):
        return self.client.get(REVIEWS + path, params, headers=bearer(self.token(who)))

    def post(self, who, path, body=None):
        return post(self.client, REVIEWS + path, body or {}, token=self.token(who))

    def allowed(self, who, action) -> bool:
        response = post(self.client, "/api/v1/authz/check", {"action": action}, self.token(who))
        return response.json()["allowed"]


@pytest.fixture
def world(db):
    return World()


def campaign_body(**scope):
    due = timezone.now() + timedelta(days=14)
    return {"name": "Q4 lab access", "scope": scope, "due_at": due.isoformat()}


def by_access(items):
    return {i["access"]: i for i in items}


def test_a_campaign_from_creation_to_report(world):
    assert world.post(world.bob, "", campaign_body(department="Lab")).status_code == 403

    created = world.post(world.admin, "", campaign_body(department="Lab"))
    assert created.status_code == 201, created.content
    review = created.json()
    items = by_access(review["items"])
    alice, bob = str(world.alice.user_id), str(world.bob.user_id)
    assert {(i["user_id"], i["access"]) for i in review["items"]} == {
        (alice, "role analyst"),
        (alice, "role member"),
        (alice, "grant document:read on document 42"),
        (alice, "override allow sample:read scope all"),
        (bob, "role viewer"),
    }
    # Alice's manager reviews her; Bob has none: the creator does
    assert {i["reviewer_id"] for i in review["items"] if i["user_id"] == alice} == {
        str(world.manager.user_id)
    }
    assert items["role viewer"]["reviewer_id"] == str(world.admin.user_id)
    assert review["counts"] == {"total": 5, "pending": 5, "kept": 0, "revoked": 0}
    rid = review["id"]

    # who sees what: the reviewer her own items, a bystander and an outsider nothing
    own = world.get(world.manager, f"/{rid}/items").json()["items"]
    assert {i["user_id"] for i in own} == {alice} and len(own) == 4
    assert world.get(world.carol, f"/{rid}").status_code == 404
    assert world.get(world.outsider, f"/{rid}").status_code == 404
    assert world.get(world.outsider, f"/{rid}/report").status_code == 404

    # only the assigned reviewer decides; nothing changes otherwise
    analyst = items["role analyst"]["id"]
    refused = world.post(world.bob, f"/{rid}/items/{analyst}", {"decision": "revoke"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "not_reviewer"
    refused = world.post(world.admin, f"/{rid}/items/{analyst}", {"decision": "revoke"})
    assert refused.json()["code"] == "not_reviewer"
    assert AccessReviewItem.objects.get(pk=analyst).decision == Decision.PENDING
    assert world.allowed(world.alice, "report:approve") is True

    # revocations apply at once, through the access services
    version = world.alice.version
    decided = world.post(
        world.manager, f"/{rid}/items/{analyst}", {"decision": "revoke", "note": "moved team"}
    )
    assert decided.status_code == 200, decided.content
    assert decided.json()["decision"] == "revoke" and decided.json()["applied"] is True
    assert world.allowed(world.alice, "report:approve") is False
    world.alice.refresh_from_db()
    assert world.alice.version > version
    assert not RoleAssignment.objects.filter(membership=world.alice, role__slug="analyst").exists()
    assert AuditEvent.objects.filter(type=AuditEventType.ROLE_REMOVED).count() == 1
    again = world.post(world.manager, f"/{rid}/items/{analyst}", {"decision": "keep"})
    assert again.status_code == 409 and again.json()["code"] == "already_decided"

    grant_item = items["grant document:read on document 42"]["id"]
    override_item = items["override allow sample:read scope all"]["id"]
    world.post(world.manager, f"/{rid}/items/{grant_item}", {"decision": "revoke"})
    world.post(world.manager, f"/{rid}/items/{override_item}", {"decision": "revoke"})
    assert not Grant.objects.filter(pk=world.grant.pk).exists()
    assert not MembershipOverride.objects.filter(membership=world.alice).exists()
    world.post(world.manager, f"/{rid}/items/{items['role member']['id']}", {"decision": "keep"})
    assert world.get(world.admin, f"/{rid}").json()["status"] == "open"
    last = world.post(
        world.admin, f"/{rid}/items/{items['role viewer']['id']}", {"decision": "keep"}
    )
    assert last.status_code == 200

    finished = world.get(world.admin, f"/{rid}").json()
    assert finished["status"] == "completed" and finished["completed_at"]
    assert finished["counts"] == {"total": 5, "pending": 0, "kept": 2, "revoked": 3}
    assert AuditEvent.objects.filter(type=AuditEventType.ACCESS_REVIEW_DECISION).count() == 5
    assert AuditEvent.objects.filter(type=AuditEventType.ACCESS_REVIEW_COMPLETED).count() == 1

    report = world.get(world.admin, f"/{rid}/report", format="json").json()
    rows = by_access(report["items"])
    assert rows["role analyst"]["decision"] == "revoke"
    assert rows["role analyst"]["decided_by"] == str(world.manager.user_id)
    assert rows["role analyst"]["reviewer_email"] == "maria@acme.test"
    assert rows["role analyst"]["note"] == "moved team"
    assert rows["role analyst"]["decided_at"]
    assert rows["role viewer"]["decision"] == "keep"
    exported = world.get(world.admin, f"/{rid}/report", format="csv")
    assert exported["Content-Type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(b"".join(exported.streaming_content).decode())))
    assert len(table) == 5
    assert {r["user_email"] for r in table} == {"alice@acme.test", "bob@acme.test"}
    assert {(r["access"], r["decision"]) for r in table} >= {("role analyst", "revoke")}
    assert world.get(world.manager, f"/{rid}/report").status_code == 403


def test_reminders_for_overdue_items_follow_the_clock(world, django_capture_on_commit_callbacks):
    created = world.post(world.admin, "", campaign_body(department="Lab")).json()
    review = AccessReview.objects.get(pk=created["id"])
    kept = by_access(created["items"])["role viewer"]["id"]
    world.post(world.admin, f"/{review.pk}/items/{kept}", {"decision": "keep"})
    mail.outbox.clear()

    assert access_reviews_remind(now=review.due_at - timedelta(minutes=1)).reviewers == 0
    overdue = review.due_at + timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):  # mail leaves after the commit
        sent = access_reviews_remind(now=overdue)
    assert (sent.reviewers, sent.items) == (1, 4)  # Maria; the admin's item is decided
    assert [m.to for m in mail.outbox] == [["maria@acme.test"]]
    assert "4 access review items overdue" in mail.outbox[0].subject
    assert "Q4 lab access" in mail.outbox[0].body
    assert access_reviews_remind(now=overdue + timedelta(hours=2)).reviewers == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert access_reviews_remind(now=overdue + timedelta(hours=25)).reviewers == 1
    assert len(mail.outbox) == 2


def test_a_review_for_one_member_for_the_joiner_template(world):
    review = access_review_create_for_member(membership=world.alice, after_days=30)
    items = list(review.items.all())
    assert {i.user_id for i in items} == {world.alice.user_id}
    assert {i.reviewer_id for i in items} == {world.manager.pk}
    assert timedelta(days=29) < review.due_at - timezone.now() <= timedelta(days=30)


def test_privileged_scope_and_role_scope(world):
    privileged = world.post(world.admin, "", campaign_body(privileged=True)).json()
    assert {i["user_id"] for i in privileged["items"]} == {
        str(world.admin.user_id),
        str(world.manager.user_id),
    }
    # the admin outranks their reviewer-by-default (no manager): the creator reviews
    by_role = world.post(world.admin, "", campaign_body(roles=["viewer"])).json()
    assert {i["user_id"] for i in by_role["items"]} == {
        str(world.bob.user_id),
        str(world.carol.user_id),
    }


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (campaign_body(), "scope_empty"),
        (campaign_body(roles=["nope"]), "unknown_role"),
        (campaign_body(department="Nowhere"), "review_empty"),
        ({**campaign_body(all=True), "due_at": "2020-01-01T00:00:00Z"}, "due_in_past"),
        ({**campaign_body(all=True), "name": "  "}, "invalid"),
    ],
)
def test_bad_campaigns_are_refused_and_nothing_is_created(world, body, code):
    response = world.post(world.admin, "", body)
    assert response.status_code == 422, response.content
    assert response.json()["code"] == code
    assert not AccessReview.objects.exists()
    assert not AuditEvent.objects.filter(type=AuditEventType.ACCESS_REVIEW_CREATED).exists()


def test_a_manager_reviewer_cannot_remove_the_last_admin_or_act_beyond_their_rank(world):
    overrides_set(
        membership=world.alice,
        rules=[
            {"effect": "allow", "permission": "sample:read", "scope": "all"},
            {"effect": "deny", "permission": "report:approve", "scope": "all"},
        ],
    )
    created = world.post(world.admin, "", campaign_body(all=True)).json()
    rid = created["id"]
    # removing a deny widens Alice beyond what Maria holds herself: the escalation rule refuses
    deny = next(i for i in created["items"] if i["access"].startswith("override deny"))
    refused = world.post(world.manager, f"/{rid}/items/{deny['id']}", {"decision": "revoke"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "not_held"
    assert MembershipOverride.objects.filter(membership=world.alice, effect="deny").exists()
    assert AccessReviewItem.objects.get(pk=deny["id"]).decision == Decision.PENDING
    allow = next(i for i in created["items"] if i["access"].startswith("override allow"))
    kept = world.post(world.manager, f"/{rid}/items/{allow['id']}", {"decision": "revoke"})
    assert kept.status_code == 200  # taking an allow away needs no rank
    admin_role = next(
        i
        for i in created["items"]
        if i["user_id"] == str(world.admin.user_id) and i["access"] == "role admin"
    )
    # the admin has no manager: the creator (the admin) reviews their own role, and cannot
    # remove the tenant's last administrator
    refused = world.post(world.admin, f"/{rid}/items/{admin_role['id']}", {"decision": "revoke"})
    assert refused.status_code == 409
    assert AccessReviewItem.objects.get(pk=admin_role["id"]).decision == Decision.PENDING
    assert RoleAssignment.objects.filter(membership=world.admin, role__slug="admin").exists()
