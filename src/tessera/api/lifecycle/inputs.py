"""What the lifecycle endpoints accept."""

from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import Field


class JoinerRuleIn(Schema):
    department: str | None = None
    job_title: str | None = None
    roles: list[str]


class JoinerTemplateIn(Schema):
    rules: list[dict[str, Any]] = Field(
        default_factory=list,
        description="[{department?, job_title?, roles: [slug]}]: a rule applies when each key "
        "it names equals the member's value; the member gets the roles of every rule that applies",
        json_schema_extra={"items": JoinerRuleIn.model_json_schema()},
    )
    require_mfa: bool = False
    welcome_mail: bool = True
    first_review_after_days: int | None = None


class OffboardIn(Schema):
    transfer_to: str | None = Field(None, description="user id of the member who takes over")
    erase_after_days: int | None = Field(
        None, description="0-3650; the erasure date is now + this many days (default 30)"
    )
