"""Chain hashes cover a commitment to the personal fields; the trigger lets redaction through.

1. Existing events were hashed over their raw ip, user_agent and changes. Each chain that still
   verifies under that formula is re-sealed: every event gets a salt and `pii_hash`, and the chain
   is re-hashed with the new formula (tessera.audit.services.event_digest). A chain that does not
   verify any more is left as it is, so it keeps failing verification (tampering is not laundered).
2. On PostgreSQL the append-only trigger now lets exactly one UPDATE through: the redaction of an
   unredacted event (ip NULL, user_agent '', changes NULL, pii_salt '', redacted_at set, every
   other column unchanged). Everything else is still refused, DELETE included.

Both formulas are frozen here, so that later changes to the services do not change this step.
"""

import hashlib
import json
import secrets

from django.db import migrations
from django.db.migrations.exceptions import IrreversibleError

BATCH = 2000

REDACTION_TRIGGER = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
DECLARE
  redactable CONSTANT text[] := ARRAY['ip', 'user_agent', 'changes', 'pii_salt', 'redacted_at'];
BEGIN
  -- the one permitted update: tessera.audit.services.audit_redact (GDPR erasure)
  IF TG_OP = 'UPDATE'
     AND OLD.redacted_at IS NULL AND NEW.redacted_at IS NOT NULL
     AND NEW.ip IS NULL AND NEW.user_agent = '' AND NEW.changes IS NULL AND NEW.pii_salt = ''
     AND (to_jsonb(NEW) - redactable) = (to_jsonb(OLD) - redactable)
  THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'audit events are append-only';
END;
$$ LANGUAGE plpgsql;
"""
STRICT_TRIGGER = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'audit events are append-only';
END;
$$ LANGUAGE plpgsql;
"""


def _sha(body) -> str:
    raw = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def _head(event) -> dict:
    return {
        "id": str(event.id),
        "seq": event.seq,
        "chain": event.chain,
        "tenant": str(event.tenant_id) if event.tenant_id else None,
        "actor_type": event.actor_type,
        "actor_user_id": str(event.actor_user_id) if event.actor_user_id else None,
        "actor_membership_id": str(event.actor_membership_id)
        if event.actor_membership_id
        else None,
        "actor_api_key_id": str(event.actor_api_key_id) if event.actor_api_key_id else None,
        "type": event.type,
        "resource_type": event.resource_type,
        "resource_id": event.resource_id,
        "request_id": event.request_id,
        "risk_score": event.risk_score,
        "created_at": event.created_at.isoformat(),
        "prev_hash": event.prev_hash,
    }


def digest_v1(event) -> str:
    """The formula of migrations 0001-0002: raw personal fields inside the hash."""
    return _sha(
        {**_head(event), "changes": event.changes, "ip": event.ip, "user_agent": event.user_agent}
    )


def pii_v2(event) -> str:
    return _sha(
        {
            "ip": event.ip,
            "user_agent": event.user_agent,
            "changes": event.changes,
            "salt": event.pii_salt,
        }
    )


def digest_v2(event) -> str:
    return _sha({**_head(event), "pii_hash": event.pii_hash})


def _digest_v2_checked(event) -> str:
    """digest_v2, or "" (never a match) when the personal fields do not match their commitment."""
    return digest_v2(event) if pii_v2(event) == event.pii_hash else ""


def _walk(manager, key):
    last = 0
    while True:
        rows = list(manager.filter(chain=key, seq__gt=last).order_by("seq")[:BATCH])
        if not rows:
            return
        yield rows
        last = rows[-1].seq


def _verifies(manager, Chain, key, digest) -> bool:
    prev, expected = "", 1
    for rows in _walk(manager, key):
        for event in rows:
            if event.seq != expected or event.prev_hash != prev or digest(event) != event.hash:
                return False
            prev, expected = event.hash, expected + 1
    head = Chain._base_manager.filter(key=key).first()
    return head is None or (head.length == expected - 1 and head.last_hash == prev)


def _reseal(apps, schema_editor, *, old, new, seal) -> None:
    Event = apps.get_model("audit", "AuditEvent")
    Chain = apps.get_model("audit", "AuditChain")
    events = Event._base_manager
    if not events.exists():
        return
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:
        schema_editor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_update")
    keys = list(events.order_by().values_list("chain", flat=True).distinct())
    for key in keys:
        if not _verifies(events, Chain, key, old):
            continue
        prev = ""
        for rows in _walk(events, key):
            for event in rows:
                seal(event)
                event.prev_hash = prev
                event.hash = new(event)
                prev = event.hash
            events.bulk_update(rows, ["pii_salt", "pii_hash", "prev_hash", "hash"])
        Chain._base_manager.filter(key=key).update(last_hash=prev)
    if postgres:
        schema_editor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_no_update")


def _seal_v2(event) -> None:
    event.pii_salt = secrets.token_hex(16)
    event.pii_hash = pii_v2(event)


def _unseal_v1(event) -> None:
    event.pii_salt, event.pii_hash = "", ""


def forwards(apps, schema_editor):
    _reseal(apps, schema_editor, old=digest_v1, new=digest_v2, seal=_seal_v2)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REDACTION_TRIGGER)


def backwards(apps, schema_editor):
    Event = apps.get_model("audit", "AuditEvent")
    if Event._base_manager.filter(redacted_at__isnull=False).exists():
        raise IrreversibleError(
            "redacted audit events cannot be hashed over their personal fields again"
        )
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(STRICT_TRIGGER)
    _reseal(apps, schema_editor, old=_digest_v2_checked, new=digest_v1, seal=_unseal_v1)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_pii_commitment")]
    operations = [migrations.RunPython(forwards, backwards)]
