"""Audit events written in the past (the clock moved back), for archive and partition tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

from django.utils import timezone

from tessera.audit.services import Actor, audit_record
from tessera.tenancy.models import Tenant
from tests.factories import make_tenant

PERSON = Actor(type="user", ip="198.51.100.7", user_agent="Archived/1.0")


def at(year: int, month: int, day: int = 10) -> datetime:
    return datetime(year, month, day, 12, 0, tzinfo=UTC)


def clock(moment: datetime):
    return mock.patch.object(timezone, "now", return_value=moment)


def tenant_with_history(slug: str, months: list[tuple[int, int]], per_month: int = 2, **settings):
    """A tenant created in the first month, with `per_month` events in each month."""
    with clock(at(*months[0], day=1)):
        tenant = make_tenant(slug, **settings)
    for year, month in months:
        for day in range(per_month):
            with clock(at(year, month, day + 2)):
                audit_record(
                    type="PROFILE_UPDATE",
                    actor=PERSON,
                    tenant_id=tenant.pk,
                    resource_type="user",
                    resource_id=f"{slug}-{year}-{month}-{day}",
                    changes={"after": {"title": f"t{day}"}},
                )
    return tenant


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def tenant_settings(tenant: Tenant, **retention) -> None:
    tenant.settings = {
        **tenant.settings,
        "retention": {**tenant.settings["retention"], **retention},
    }
    tenant.save(update_fields=["settings"])
