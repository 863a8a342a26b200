"""What the domains endpoints answer, and the shaping into it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema

from tessera.directory.domains import (
    domain_challenge,
)
from tessera.directory.models import Domain


class VerificationOut(Schema):
    type: str
    name: str
    value: str


class DomainOut(Schema):
    id: str
    domain: str
    verification: VerificationOut
    verified_at: datetime | None
    verified_by: str
    created_at: datetime


class DomainPage(Schema):
    items: list[DomainOut]
    next_cursor: str | None


def domain_as_dict(domain: Domain) -> dict[str, Any]:
    challenge = domain_challenge(domain)
    return {
        "id": str(domain.pk),
        "domain": domain.domain,
        "verification": {"type": challenge.type, "name": challenge.name, "value": challenge.value},
        "verified_at": domain.verified_at,
        "verified_by": domain.verified_by,
        "created_at": domain.created_at,
    }
