"""Streaming exports of the audit trail as CSV or JSON Lines (constant memory)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator

from tessera.audit.models import AuditEvent

COLUMNS = (
    "id",
    "created_at",
    "type",
    "actor_type",
    "actor_user_id",
    "actor_api_key_id",
    "resource_type",
    "resource_id",
    "ip",
    "user_agent",
    "request_id",
    "risk_score",
    "changes",
    "prev_hash",
    "hash",
    "actor_impersonator_id",
)


def event_as_dict(event: AuditEvent) -> dict:
    actor = {"type": event.actor_type}
    if event.actor_user_id:
        actor["user_id"] = str(event.actor_user_id)
    if event.actor_api_key_id:
        actor["api_key_id"] = str(event.actor_api_key_id)
    if event.actor_impersonator_id:
        actor["impersonator_id"] = str(event.actor_impersonator_id)
    return {
        "id": str(event.id),
        "type": event.type,
        "actor": actor,
        "resource_type": event.resource_type,
        "resource_id": event.resource_id,
        "changes": event.changes,
        "ip": event.ip,
        "user_agent": event.user_agent,
        "request_id": event.request_id,
        "risk_score": event.risk_score,
        "created_at": event.created_at.isoformat(),
        "redacted_at": event.redacted_at.isoformat() if event.redacted_at else None,
        "hash": event.hash,
        "prev_hash": event.prev_hash,
    }


def export_jsonl(events: Iterable[AuditEvent]) -> Iterator[str]:
    for event in events:
        yield json.dumps(event_as_dict(event), separators=(",", ":")) + "\n"


def export_csv(events: Iterable[AuditEvent]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for event in events:
        writer.writerow(
            [
                event.id,
                event.created_at.isoformat(),
                event.type,
                event.actor_type,
                event.actor_user_id or "",
                event.actor_api_key_id or "",
                event.resource_type,
                event.resource_id,
                event.ip or "",
                event.user_agent,
                event.request_id,
                "" if event.risk_score is None else event.risk_score,
                "" if event.changes is None else json.dumps(event.changes, separators=(",", ":")),
                event.prev_hash,
                event.hash,
                event.actor_impersonator_id or "",
            ]
        )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()
