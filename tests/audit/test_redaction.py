"""Redaction of an event's personal fields (GDPR erasure) keeps its chain verifiable, while any
other change is still detected — and on PostgreSQL the trigger lets only the redaction through."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.db.migrations.exceptions import IrreversibleError

from tessera.audit.models import AuditChain, AuditEvent
from tessera.audit.selectors import audit_chain_verify
from tessera.audit.services import Actor, audit_record, audit_redact, chain_key, event_digest

reseal = importlib.import_module("tessera.audit.migrations.0004_reseal_and_redaction_trigger")

PERSON = Actor(type="user", ip="203.0.113.9", user_agent="PersonBrowser/1.0")


def _id(event) -> str:
    return event.pk.hex if connection.vendor == "sqlite" else str(event.pk)


def raw(sql: str, event, *params) -> None:
    """A statement behind the ORM's back (the PostgreSQL trigger disabled for it)."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_update")
        cur.execute(sql, [*params, _id(event)])
        if connection.vendor == "postgresql":
            cur.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_no_update")


def json_param() -> str:
    return "%s::jsonb" if connection.vendor == "postgresql" else "%s"


@pytest.fixture
def chain(tenant):
    """Three events about a person, with their address, browser and a personal change."""
    events = [
        audit_record(
            type=kind,
            actor=PERSON,
            tenant_id=tenant.pk,
            resource_type="user",
            resource_id="u1",
            changes={"before": {"last_name": "Old"}, "after": {"last_name": "New"}},
        )
        for kind in ("LOGIN", "PROFILE_UPDATE", "LOGOUT")
    ]
    return chain_key(tenant.pk), events


def report(key):
    return audit_chain_verify(key=key)


def test_each_event_commits_to_its_personal_fields_with_its_own_salt(chain):
    _, events = chain
    first, second = (AuditEvent.objects.get(pk=e.pk) for e in events[:2])
    assert len(first.pii_salt) == 32 and first.pii_salt != second.pii_salt
    assert first.pii_hash != second.pii_hash  # same ip and user agent, different salts
    assert first.hash == event_digest(first)


def test_redaction_blanks_the_personal_fields_and_the_chain_still_verifies(chain):
    key, events = chain
    assert audit_redact(events=AuditEvent.objects.filter(pk=events[1].pk)) == 1
    event = AuditEvent.objects.get(pk=events[1].pk)
    assert (event.ip, event.user_agent, event.changes, event.pii_salt) == (None, "", None, "")
    assert event.redacted_at is not None
    assert (event.type, event.resource_id, event.hash) == ("PROFILE_UPDATE", "u1", events[1].hash)
    result = report(key)
    assert result.valid and result.redacted == 1
    assert audit_redact(events=[event]) == 0  # already redacted: left alone


@pytest.mark.parametrize(
    ("column", "value"),
    [("ip", "10.9.9.9"), ("user_agent", "Forged/1.0"), ("changes", '{"after": {"x": 1}}')],
)
def test_tampering_with_a_personal_field_of_an_unredacted_event_is_detected(chain, column, value):
    key, events = chain
    placeholder = json_param() if column == "changes" else "%s"
    raw(f"UPDATE audit_auditevent SET {column} = {placeholder} WHERE id = %s", events[1], value)
    result = report(key)
    assert not result.valid
    assert result.first_broken == str(events[1].pk)
    assert result.reason == "its personal fields were altered"


def test_removing_the_personal_fields_without_redacting_is_detected(chain):
    key, events = chain
    raw("UPDATE audit_auditevent SET ip = NULL, changes = NULL WHERE id = %s", events[0])
    assert report(key).first_broken == str(events[0].pk)


@pytest.mark.parametrize(
    ("assignment", "reason"),
    [
        ("resource_id = 'u2'", "its content was altered"),
        ("type = 'LOGIN_FAILED'", "its content was altered"),
        ("pii_hash = 'f00d'", "its content was altered"),
        ("ip = '10.9.9.9'", "a redacted event carries personal fields again"),
        ("user_agent = 'Forged/1.0'", "a redacted event carries personal fields again"),
    ],
)
def test_a_redacted_event_still_detects_every_other_change(chain, assignment, reason):
    key, events = chain
    audit_redact(events=[events[1]])
    raw(f"UPDATE audit_auditevent SET {assignment} WHERE id = %s", events[1])
    result = report(key)
    assert not result.valid
    assert (result.first_broken, result.reason) == (str(events[1].pk), reason)


def test_removing_a_redacted_event_is_detected(chain):
    key, events = chain
    audit_redact(events=[events[1]])
    raw("DELETE FROM audit_auditevent WHERE id = %s", events[1])
    result = report(key)
    assert not result.valid and result.first_broken == str(events[2].pk)


def test_the_orm_still_refuses_every_other_update(chain):
    _, events = chain
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=events[0].pk).update(ip=None)
    event = AuditEvent.objects.get(pk=events[0].pk)
    event.ip = None
    with pytest.raises(PermissionError):
        event.save()


@pytest.mark.postgres
def test_postgres_trigger_lets_only_the_redaction_through(chain):
    key, events = chain
    redaction = "ip = NULL, user_agent = '', changes = NULL, pii_salt = '', redacted_at = now()"
    refused = [
        f"UPDATE audit_auditevent SET {redaction}, type = 'LOGOUT' WHERE id = %s",
        f"UPDATE audit_auditevent SET {redaction}, pii_hash = 'f00d' WHERE id = %s",
        f"UPDATE audit_auditevent SET {redaction}, seq = seq + 100 WHERE id = %s",
        "UPDATE audit_auditevent SET user_agent = '', changes = NULL, pii_salt = '', "
        "redacted_at = now() WHERE id = %s",  # the address kept
        "UPDATE audit_auditevent SET ip = NULL, user_agent = '', changes = NULL, pii_salt = '' "
        "WHERE id = %s",  # not marked redacted
        "UPDATE audit_auditevent SET changes = '{}'::jsonb WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ]
    for sql in refused:
        with pytest.raises(Exception, match="append-only"):
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute(sql, [str(events[1].pk)])
    with connection.cursor() as cur:
        cur.execute(f"UPDATE audit_auditevent SET {redaction} WHERE id = %s", [str(events[1].pk)])
    with pytest.raises(Exception, match="append-only"):  # once redacted, never touched again
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                f"UPDATE audit_auditevent SET {redaction} WHERE id = %s", [str(events[1].pk)]
            )
    assert audit_redact(events=[events[0]]) == 1  # the ORM path passes the trigger
    assert report(key).valid


# --- the migration that re-seals events written before the commitment existed -------------------


def _make_legacy(key: str, events, *, tamper: bool = False) -> None:
    """Rewrite a chain as migration 0002 wrote it: raw personal fields inside the hash."""
    prev = ""
    for event in AuditEvent.objects.filter(chain=key).order_by("seq"):
        event.pii_salt, event.pii_hash, event.prev_hash = "", "", prev
        event.hash = reseal.digest_v1(event)
        prev = event.hash
        with connection.cursor() as cur:
            if connection.vendor == "postgresql":
                cur.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_update")
        AuditEvent._base_manager.filter(pk=event.pk).update(
            pii_salt="", pii_hash="", prev_hash=event.prev_hash, hash=event.hash
        )
        with connection.cursor() as cur:
            if connection.vendor == "postgresql":
                cur.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_no_update")
    AuditChain.objects.filter(key=key).update(last_hash=prev)
    if tamper:
        raw("UPDATE audit_auditevent SET ip = '10.9.9.9' WHERE id = %s", events[0])


def _editor():
    def execute(sql):
        with connection.cursor() as cur:
            cur.execute(sql)

    return SimpleNamespace(connection=connection, execute=execute)


def test_the_migration_reseals_legacy_chains_and_leaves_broken_ones_broken(chain, other_tenant):
    key, events = chain
    broken_events = [
        audit_record(type="LOGIN", actor=PERSON, tenant_id=other_tenant.pk) for _ in range(2)
    ]
    broken_key = chain_key(other_tenant.pk)
    _make_legacy(key, events)
    _make_legacy(broken_key, broken_events, tamper=True)
    assert not report(key).valid  # the new formula does not read legacy events

    reseal.forwards(apps, _editor())

    assert report(key).valid
    assert report(key).checked == AuditEvent.objects.filter(chain=key).count()
    assert not report(broken_key).valid
    resealed = AuditEvent.objects.get(pk=events[1].pk)
    assert resealed.changes == events[1].changes and resealed.ip == PERSON.ip
    assert resealed.hash == event_digest(resealed)
    audit_redact(events=[resealed])
    assert report(key).valid


def test_the_migration_reverses_when_nothing_was_redacted(chain):
    key, events = chain
    reseal.backwards(apps, _editor())
    assert reseal._verifies(AuditEvent._base_manager, AuditChain, key, reseal.digest_v1)
    reseal.forwards(apps, _editor())
    assert report(key).valid
    audit_redact(events=[events[0]])
    with pytest.raises(IrreversibleError):
        reseal.backwards(apps, _editor())
