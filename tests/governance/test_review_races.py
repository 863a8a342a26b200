"""Races on PostgreSQL: two decisions on one access review item — one wins, one is 409, and the
access is revoked (and audited) once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tessera.access.models import RoleAssignment
from tessera.access.services.assignments import role_assign
from tessera.access.services.roles import role_create
from tessera.audit.models import AuditEvent, AuditEventType
from tessera.reviews.models import AccessReviewItem
from tessera.reviews.services import access_review_create
from tests.api.conftest import Api
from tests.api.test_concurrency import race
from tests.factories import make_member, make_tenant

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_concurrent_decisions_on_one_item_give_one_200_and_one_409():
    tenant = make_tenant("acme")
    admin = make_member(tenant, "admin@acme.test", roles=["admin"])
    manager = make_member(tenant, "maria@acme.test", roles=["manager"])
    alice = make_member(tenant, "alice@acme.test", roles=[], manager=manager)
    analyst = role_create(
        tenant=tenant,
        slug="analyst",
        name="Analyst",
        rules=[{"effect": "allow", "permission": "report:approve", "scope": "all"}],
    )
    role_assign(membership=alice, role=analyst)
    review = access_review_create(
        tenant=tenant,
        name="race",
        scope={"roles": ["analyst"]},
        due_at=timezone.now() + timedelta(days=1),
        created_by=admin,
    )
    item = review.items.get()
    path = f"/access-reviews/{review.pk}/items/{item.pk}"
    clients = [Api(manager.user, "acme"), Api(manager.user, "acme")]
    bodies = [{"decision": "revoke"}, {"decision": "revoke"}]
    calls = [lambda c=c, b=b: c.post(path, b) for c, b in zip(clients, bodies, strict=True)]
    assert race(*calls) == [200, 409]
    assert AccessReviewItem.objects.get(pk=item.pk).decision == "revoke"
    assert not RoleAssignment.objects.filter(membership=alice).exists()
    assert AuditEvent.objects.filter(type=AuditEventType.ROLE_REMOVED).count() == 1
    assert AuditEvent.objects.filter(type=AuditEventType.ACCESS_REVIEW_DECISION).count() == 1
