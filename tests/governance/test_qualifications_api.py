"""Qualifications through the API: catalog, records, verification rules, revocation, decisions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tessera.access.services.roles import role_create
from tessera.audit.models import AuditEvent
from tessera.qualifications.models import QualificationRecord, QualificationType
from tessera.tenancy.models import Membership
from tests.factories import make_member

pytestmark = pytest.mark.django_db


def _hplc(world, api, validity_days=365):
    r = api(world.admin).post(
        "/qualifications",
        {"code": "hplc", "name": "HPLC method", "kind": "method", "validity_days": validity_days},
    )
    assert r.status_code == 201, r.content
    return r.json()


def _approver(world):
    """A role that may approve results only while qualified for hplc at level 3."""
    role_create(
        tenant=world.acme,
        slug="approver",
        name="Approver",
        rules=[
            {
                "effect": "allow",
                "permission": "result:approve",
                "condition": {"has_qualification": {"code": "hplc", "min_level": 3}},
            }
        ],
    )
    analyst = make_member(world.acme, "analyst@acme.test", roles=["member", "approver"])
    return analyst


def _check(api, caller, user_id, action="result:approve", explain=False):
    r = api(caller).post(
        "/authz/explain" if explain else "/authz/check",
        {"subject_id": user_id, "action": action},
    )
    assert r.status_code == 200, r.content
    return r.json()


def test_the_catalog_lists_and_refuses_duplicates_and_bad_fields(world, api):
    entry = _hplc(world, api)
    assert entry["code"] == "hplc" and entry["validity_days"] == 365
    again = api(world.admin).post("/qualifications", {"code": "hplc", "name": "Again"})
    assert again.status_code == 409 and again.json()["code"] == "qualification_type_exists"
    bad = api(world.admin).post(
        "/qualifications", {"code": "Bad Code", "name": "", "kind": "magic", "validity_days": 0}
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"code", "name", "kind", "validity_days"}
    listed = api(world.viewer).get("/qualifications")
    assert listed.status_code == 403  # viewers lack qualification:read
    listed = api(world.admin).get("/qualifications")
    assert [t["code"] for t in listed.json()["items"]] == ["hplc"]
    assert api(world.outsider).get("/qualifications").json()["items"] == []
    assert AuditEvent.objects.filter(type="QUALIFICATION_TYPE_CREATED").count() == 1


def test_a_record_gives_access_through_a_rule_until_it_is_revoked(world, api):
    _hplc(world, api)
    analyst = _approver(world)
    uid = str(analyst.user_id)
    assert not _check(api, world.admin, uid)["allowed"]
    version = Membership.objects.get(pk=analyst.pk).version

    r = api(world.admin).post(
        f"/users/{uid}/qualifications", {"type": "hplc", "level": 3, "evidence": "PT round 12"}
    )
    assert r.status_code == 201, r.content
    record = r.json()
    assert record["verified_by"] == str(world.admin.user_id)
    assert record["valid_now"] is True
    assert record["valid_until"] is not None  # valid_from + the type's 365 days
    assert Membership.objects.get(pk=analyst.pk).version > version
    assert _check(api, world.admin, uid)["allowed"]

    revoked = api(world.admin).post(
        f"/users/{uid}/qualifications/{record['id']}/revoke", {"reason": "failed PT round 13"}
    )
    assert revoked.status_code == 200, revoked.content
    assert revoked.json()["revoked_at"] and revoked.json()["valid_now"] is False
    assert not _check(api, world.admin, uid)["allowed"]
    again = api(world.admin).post(f"/users/{uid}/qualifications/{record['id']}/revoke", {})
    assert again.status_code == 409 and again.json()["code"] == "qualification_revoked"
    types = set(AuditEvent.objects.values_list("type", flat=True))
    assert {"QUALIFICATION_GRANTED", "QUALIFICATION_REVOKED"} <= types


def test_a_low_level_or_expired_record_denies_and_explain_says_why(world, api):
    _hplc(world, api)
    analyst = _approver(world)
    uid = str(analyst.user_id)
    api(world.admin).post(f"/users/{uid}/qualifications", {"type": "hplc", "level": 2})
    explained = _check(api, world.admin, uid, explain=True)
    assert not explained["allowed"]
    details = [e["condition"]["detail"] for e in explained["evaluated"] if e["condition"]]
    assert details == ["qualification hplc at level >= 3 missing: the subject's hplc is level 2"]

    start = timezone.now() - timedelta(days=10)
    ended = timezone.now() - timedelta(days=1)
    r = api(world.admin).post(
        f"/users/{uid}/qualifications",
        {
            "type": "hplc",
            "level": 4,
            "valid_from": start.isoformat(),
            "valid_until": ended.isoformat(),
        },
    )
    assert r.status_code == 201 and r.json()["valid_now"] is False
    explained = _check(api, world.admin, uid, explain=True)
    details = [e["condition"]["detail"] for e in explained["evaluated"] if e["condition"]]
    assert details == [f"qualification hplc at level >= 3 expired at {ended.isoformat()}"]


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"type": "hplc", "level": 0}, "level", "out_of_range"),
        ({"type": "hplc", "level": 6}, "level", "out_of_range"),
        ({"type": "nope", "level": 3}, "type", "not_found"),
        (
            {"type": "hplc", "level": 3, "valid_from": "9999-12-31T00:00:00Z"},
            "valid_from",
            "out_of_range",
        ),
        (
            {
                "type": "hplc",
                "level": 3,
                "valid_from": "2030-01-02T00:00:00Z",
                "valid_until": "2030-01-01T00:00:00Z",
            },
            "valid_until",
            "invalid",
        ),
    ],
)
def test_bad_records_are_refused_and_nothing_changes(world, api, body, field, code):
    _hplc(world, api)
    r = api(world.admin).post(f"/users/{world.member.user_id}/qualifications", body)
    assert r.status_code == 422, r.content
    assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [(field, code)]
    assert not QualificationRecord.objects.exists()


def test_nobody_verifies_their_own_qualification(world, api):
    _hplc(world, api)
    r = api(world.admin).post(
        f"/users/{world.admin.user_id}/qualifications", {"type": "hplc", "level": 5}
    )
    assert r.status_code == 403 and r.json()["code"] == "self_verification"
    assert not QualificationRecord.objects.exists()
    assert not AuditEvent.objects.filter(type="QUALIFICATION_GRANTED").exists()


def test_verifying_needs_the_permission_and_stays_in_the_tenant(world, api):
    _hplc(world, api)
    r = api(world.manager).post(
        f"/users/{world.member.user_id}/qualifications", {"type": "hplc", "level": 1}
    )
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"
    r = api(world.outsider).post(
        f"/users/{world.member.user_id}/qualifications", {"type": "hplc", "level": 1}
    )
    assert r.status_code == 404
    r = api(world.outsider).get(f"/users/{world.member.user_id}/qualifications")
    assert r.status_code == 404
    assert not QualificationRecord.objects.exists()


def test_a_member_reads_their_own_records_but_not_others(world, api):
    _hplc(world, api)
    api(world.admin).post(
        f"/users/{world.member.user_id}/qualifications", {"type": "hplc", "level": 2}
    )
    own = api(world.member).get(f"/users/{world.member.user_id}/qualifications")
    assert own.status_code == 200 and [r["level"] for r in own.json()["items"]] == [2]
    other = api(world.member).get(f"/users/{world.viewer.user_id}/qualifications")
    assert other.status_code == 403
    unknown = api(world.admin).get(f"/users/{world.member.user_id}/qualifications/x/revoke")
    assert unknown.status_code in (404, 405)


def test_subjects_lists_only_who_is_qualified_today(world, api):
    _hplc(world, api)
    analyst = _approver(world)
    other = make_member(world.acme, "other@acme.test", roles=["member", "approver"])
    api(world.admin).post(f"/users/{analyst.user_id}/qualifications", {"type": "hplc", "level": 3})
    r = api(world.admin).get("/authz/subjects", {"action": "result:approve"})
    assert r.status_code == 200, r.content
    listed = {item["user_id"]: item["conditional"] for item in r.json()["items"]}
    assert str(analyst.user_id) in listed and listed[str(analyst.user_id)] is False
    assert str(other.user_id) not in listed
    assert str(world.admin.user_id) in listed  # *:* holds everything
    assert QualificationType.objects.count() == 1


def test_through_the_stored_policy_expiry_denies_the_second_after_with_no_write(world, api):
    from tessera.access.bridge.decisions import check
    from tessera.engine import Context

    _hplc(world, api)
    analyst = _approver(world)
    until = timezone.now() + timedelta(days=30)
    r = api(world.admin).post(
        f"/users/{analyst.user_id}/qualifications",
        {"type": "hplc", "level": 3, "valid_until": until.isoformat()},
    )
    assert r.status_code == 201
    version = Membership.objects.get(pk=analyst.pk).version
    member = Membership.objects.get(pk=analyst.pk)

    def allowed(at):
        return check(membership=member, action="result:approve", context=Context(now=at)).allowed

    assert allowed(until - timedelta(seconds=1))
    assert not allowed(until + timedelta(seconds=1))
    assert Membership.objects.get(pk=analyst.pk).version == version  # nothing was written
