"""What the lifecycle endpoints answer, and the shaping into it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema

from tessera.lifecycle.models import JoinerTemplate, Offboarding


class JoinerTemplateOut(Schema):
    rules: list[dict[str, Any]]
    require_mfa: bool
    welcome_mail: bool
    first_review_after_days: int | None
    updated_at: datetime | None


class OffboardingOut(Schema):
    id: str
    user_id: str
    status: str
    erase_at: datetime
    transfer_to: str | None
    steps: dict[str, Any]
    created_at: datetime
    cancelled_at: datetime | None
    erased_at: datetime | None


def template_as_dict(template: JoinerTemplate) -> dict[str, Any]:
    return {
        "rules": template.rules or [],
        "require_mfa": template.require_mfa,
        "welcome_mail": template.welcome_mail,
        "first_review_after_days": template.first_review_after_days,
        "updated_at": template.updated_at,
    }


def offboarding_as_dict(offboarding: Offboarding) -> dict[str, Any]:
    return {
        "id": str(offboarding.pk),
        "user_id": str(offboarding.user_id),
        "status": offboarding.status,
        "erase_at": offboarding.erase_at,
        "transfer_to": str(offboarding.transfer_to.user_id) if offboarding.transfer_to else None,
        "steps": offboarding.steps,
        "created_at": offboarding.created_at,
        "cancelled_at": offboarding.cancelled_at,
        "erased_at": offboarding.erased_at,
    }
