"""/api/v1/authz: the input schemas (what a request may send)."""

from __future__ import annotations

import ipaddress
from typing import Any

from ninja import Field, Schema
from pydantic import BaseModel, ConfigDict, field_validator

from tessera.access import decisions

NAME = r"^[a-z][a-z0-9_.\-]{0,63}$"


class ResourceIn(BaseModel):
    type: str = Field(..., pattern=NAME, description="the resource type, e.g. `document`")
    id: str | int | None = Field(None, description="an opaque id")
    owner_id: str | None = Field(None, max_length=128)
    department: str | None = Field(None, max_length=120)
    attributes: dict[str, Any] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _id(cls, value):
        if value is None:
            return None
        text = str(value)
        if not text or len(text) > 256:
            raise ValueError("1–256 characters")
        return text


class ContextIn(BaseModel):
    """Facts of the situation. About oneself only `attributes` count (the server knows the rest);
    about another member every field does. Unknown keys join `attributes`."""

    model_config = ConfigDict(extra="allow")

    ip: str | None = None
    mfa_verified: bool | None = None
    risk_score: float | None = Field(None, ge=0, le=100)
    device_trusted: bool | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)

    @field_validator("ip")
    @classmethod
    def _ip(cls, value):
        if value is not None:
            ipaddress.ip_address(value)
        return value

    def as_dict(self) -> dict[str, Any]:
        data = self.model_dump(exclude_none=True)
        extra = dict(self.model_extra or {})
        data["attributes"] = {**extra, **data.get("attributes", {})}
        for key in extra:
            data.pop(key, None)
        return data


class CheckIn(BaseModel):
    action: str = Field(..., max_length=200, examples=["document:read"])
    resource: ResourceIn | None = None
    context: ContextIn | None = None
    subject_id: str | None = Field(None, max_length=64)


class BatchIn(BaseModel):
    checks: list[CheckIn] = Field(..., max_length=decisions.MAX_BATCH)


class SubjectsQuery(Schema):
    action: str = Field(..., max_length=200)
    resource_type: str | None = Field(None, pattern=NAME)
    resource_id: str | None = Field(None, max_length=256)
    limit: int | None = None
    cursor: str | None = Field(None, max_length=512)
