"""The audit trail: written with the change, hash-chained, queryable, exportable, verifiable."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from tessera.audit.models import AuditEvent
from tessera.audit.services import audit_record
from tessera.tenancy.services import tenant_settings_update
from tests.authn.conftest import bearer, login
from tests.factories import make_member

EVENTS = "/api/v1/audit-events"


@pytest.fixture
def admin_token(client, tenant):
    make_member(tenant, "boss@example.test", roles=["admin"])
    r = login(client, "boss@example.test", tenant="acme")
    assert r.status_code == 200, r.content
    return r.json()["access_token"]


def get(client, token, path=EVENTS, **params):
    return client.get(path, params, headers=bearer(token))


def test_login_is_audited_and_listed_newest_first(client, admin_token):
    r = get(client, admin_token)
    assert r.status_code == 200
    items = r.json()["items"]
    assert items[0]["type"] == "LOGIN"
    assert {
        "id",
        "type",
        "actor",
        "resource_type",
        "resource_id",
        "ip",
        "user_agent",
        "request_id",
        "created_at",
        "hash",
        "prev_hash",
    } <= set(items[0])
    assert items[0]["prev_hash"] == items[1]["hash"]


def test_filters_and_cursor_pagination(client, tenant, admin_token):
    for i in range(5):
        audit_record(
            type="PROFILE_UPDATE", tenant_id=tenant.pk, resource_type="user", resource_id=f"u{i}"
        )
    first = get(client, admin_token, type="PROFILE_UPDATE", limit=2).json()
    second = get(
        client, admin_token, type="PROFILE_UPDATE", limit=2, cursor=first["next_cursor"]
    ).json()
    ids = [e["resource_id"] for e in first["items"] + second["items"]]
    assert ids == ["u4", "u3", "u2", "u1"]
    only = get(client, admin_token, resource_type="user", resource_id="u0").json()["items"]
    assert [e["resource_id"] for e in only] == ["u0"]


@pytest.mark.parametrize(
    "params",
    [
        {"type": "NOT_A_TYPE"},
        {"since": "yesterday"},
        {"actor_id": "nobody"},
        {"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
        {"limit": 500},
        {"cursor": "!!!"},
    ],
)
def test_bad_filters_are_422(client, admin_token, params):
    r = get(client, admin_token, **params)
    assert r.status_code == 422
    assert r["Content-Type"] == "application/problem+json"


def test_members_without_audit_permission_are_refused(client, tenant):
    make_member(tenant, "viewer@example.test", roles=["viewer"])
    token = login(client, "viewer@example.test", tenant="acme").json()["access_token"]
    assert get(client, token).status_code == 403
    assert client.get(EVENTS).status_code == 401


def test_a_failing_change_leaves_no_event(tenant):
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        tenant_settings_update(tenant=tenant, patch={"lockout": {"max_failures": 3}})
        raise RuntimeError("the change fails after recording")
    assert AuditEvent.objects.count() == before


def test_the_orm_refuses_to_change_or_delete_events(tenant):
    event = audit_record(type="LOGIN", tenant_id=tenant.pk)
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(type="LOGOUT")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()


def test_verify_detects_a_tampered_event(client, tenant, admin_token):
    event = audit_record(type="ROLE_ASSIGNED", tenant_id=tenant.pk, resource_id="x")
    audit_record(type="ROLE_REMOVED", tenant_id=tenant.pk, resource_id="x")
    ok = client.post(f"{EVENTS}/verify", headers=bearer(admin_token)).json()
    assert ok["valid"] is True and ok["checked"] >= 3
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_update")
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE audit_auditevent SET resource_id = 'y' WHERE id = %s",
            [event.pk.hex if connection.vendor == "sqlite" else str(event.pk)],
        )
    broken = client.post(f"{EVENTS}/verify", headers=bearer(admin_token)).json()
    assert broken["valid"] is False and broken["first_broken"] == str(event.pk)
    with pytest.raises(CommandError):
        call_command("audit", "verify", "--tenant", "acme", stdout=StringIO())


def test_verify_detects_a_removed_event(tenant):
    audit_record(type="LOGIN", tenant_id=tenant.pk)
    middle = audit_record(type="LOGOUT", tenant_id=tenant.pk)
    audit_record(type="LOGIN", tenant_id=tenant.pk)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_update")
    with connection.cursor() as cur:
        cur.execute(
            "DELETE FROM audit_auditevent WHERE id = %s",
            [middle.pk.hex if connection.vendor == "sqlite" else str(middle.pk)],
        )
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("audit", "verify", stdout=out)
    assert "BROKEN" in out.getvalue()


@pytest.mark.postgres
def test_postgres_trigger_refuses_raw_updates(tenant):
    event = audit_record(type="LOGIN", tenant_id=tenant.pk)
    with pytest.raises(Exception, match="append-only"), connection.cursor() as cur:
        cur.execute("UPDATE audit_auditevent SET type = 'LOGOUT' WHERE id = %s", [str(event.pk)])


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_export_streams_every_event_and_is_itself_audited(client, tenant, admin_token, fmt):
    for i in range(3):
        audit_record(type="GRANT_CREATED", tenant_id=tenant.pk, resource_id=f"g{i}")
    r = client.get(
        f"{EVENTS}/export", {"format": fmt, "type": "GRANT_CREATED"}, headers=bearer(admin_token)
    )
    assert r.status_code == 200
    body = b"".join(r.streaming_content).decode()
    if fmt == "jsonl":
        rows = [json.loads(line) for line in body.splitlines()]
        assert [row["resource_id"] for row in rows] == ["g2", "g1", "g0"]
    else:
        lines = body.splitlines()
        assert lines[0].startswith("id,created_at,type") and len(lines) == 4
    assert AuditEvent.objects.filter(type="DATA_EXPORTED", tenant=tenant).count() == 1


def test_export_refuses_an_unknown_format(client, admin_token):
    assert (
        client.get(f"{EVENTS}/export", {"format": "xml"}, headers=bearer(admin_token)).status_code
        == 422
    )
