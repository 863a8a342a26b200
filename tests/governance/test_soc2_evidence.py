"""SOC 2 evidence (#15 item 5): numbers from Tessera's data, each with the SQL behind it, through
the API and the CLI; who may ask; bad periods."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from tessera.administration.members import member_deactivate
from tessera.audit.models import AuditEvent, AuditEventType
from tessera.identity.models import TotpFactor
from tessera.reviews.services import access_review_create_for_member, access_review_decide
from tests.authn.conftest import bearer, login
from tests.factories import make_member, make_tenant

SOC2 = "/api/v1/compliance/soc2"


@pytest.fixture
def acme(db):
    tenant = make_tenant("acme")
    admin = make_member(tenant, "admin@acme.test", roles=["admin"])
    viewer = make_member(tenant, "viewer@acme.test", roles=["viewer"])
    TotpFactor.objects.create(
        user=viewer.user,
        secret_encrypted="sealed",
        confirmed_at=timezone.now(),
        created_at=timezone.now(),
    )
    manager = make_member(tenant, "maria@acme.test", roles=["manager"])
    alice = make_member(tenant, "alice@acme.test", roles=["member"], manager=manager)
    leaver = make_member(tenant, "leaver@acme.test", roles=["viewer"])
    member_deactivate(membership=leaver, by=admin)
    review = access_review_create_for_member(membership=alice, after_days=7)
    for item in review.items.all():
        access_review_decide(item=item, reviewer=manager, decision="keep")
    return tenant, admin


def metric(control: dict, name: str) -> dict:
    return next(m for m in control["metrics"] if m["name"] == name)


def test_the_evidence_names_numbers_and_their_queries(acme):
    client = Client()
    token = login(client, "alice@acme.test").json()["access_token"]  # Alice's first access
    admin_token = login(client, "admin@acme.test").json()["access_token"]
    response = client.get(SOC2, headers=bearer(admin_token))
    assert response.status_code == 200, response.content
    evidence = response.json()
    controls = evidence["controls"]
    assert sorted(controls) == [f"CC6.{n}" for n in range(1, 9)]

    mfa = metric(controls["CC6.1"], "mfa_coverage")
    assert mfa["value"] == {"active_members": 4, "with_mfa": 1, "percent": 25.0}
    assert any("identity_totpfactor" in q for q in mfa["queries"])
    assert controls["CC6.1"]["configuration"]["password"]["min_length"] == 15
    assert controls["CC6.1"]["configuration"]["impersonation"]["enabled"] is False

    provisioning = metric(controls["CC6.2"], "provisioning")["value"]
    assert provisioning["created"] == 5
    assert provisioning["with_first_access"] == 2  # Alice and the admin signed in
    assert provisioning["max_hours"] is not None

    privileged = metric(controls["CC6.3"], "privileged_members")["value"]
    assert {m["email"] for m in privileged["members"]} == {"admin@acme.test", "maria@acme.test"}
    reviews = metric(controls["CC6.3"], "access_reviews")["value"]
    assert reviews["campaigns_completed"] == 1
    assert reviews["items_kept"] == 1

    leaving = metric(controls["CC6.5"], "deprovisioning")["value"]
    assert leaving["deactivated"] == 1
    assert leaving["credential_used_after_deactivation"] == 0
    assert leaving["live_sessions_of_deactivated_members"] == 0

    chain = metric(controls["CC6.8"], "audit_chain")["value"]
    assert chain["valid"] is True and chain["checked"] > 0
    assert controls["CC6.4"]["applicable"] is False
    assert AuditEvent.objects.filter(
        type=AuditEventType.DATA_EXPORTED, resource_type="compliance_evidence"
    ).exists()

    # a number can be re-derived by running its query again
    query = metric(controls["CC6.6"], "impersonations")["queries"][0]
    with connection.cursor() as cursor:
        cursor.execute(query)
        assert cursor.fetchone()[0] == metric(controls["CC6.6"], "impersonations")["value"]
    assert client.get(SOC2, headers=bearer(token)).status_code == 403


def test_the_period_bounds_event_counts_and_bad_periods_are_refused(acme):
    client = Client()
    token = login(client, "admin@acme.test").json()["access_token"]
    future = (timezone.now() + timedelta(days=1)).isoformat()
    later = (timezone.now() + timedelta(days=2)).isoformat()
    response = client.get(SOC2, {"since": future, "until": later}, headers=bearer(token))
    assert response.status_code == 200
    provisioning = metric(response.json()["controls"]["CC6.2"], "provisioning")["value"]
    assert provisioning["created"] == 0
    refused = client.get(SOC2, {"since": later, "until": future}, headers=bearer(token))
    assert refused.status_code == 422
    refused = client.get(SOC2, {"since": "2000-01-01T00:00:00Z"}, headers=bearer(token))
    assert refused.status_code == 422
    assert client.get(SOC2, {"since": "yesterday"}, headers=bearer(token)).status_code == 422


def test_the_cli_prints_the_same_evidence(acme):
    out = io.StringIO()
    call_command("compliance", "soc2", "--tenant", "acme", stdout=out)
    evidence = json.loads(out.getvalue())
    assert evidence["tenant"]["slug"] == "acme"
    assert metric(evidence["controls"]["CC6.1"], "mfa_coverage")["value"]["with_mfa"] == 1
