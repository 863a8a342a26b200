"""/api/v1/authz: the input schemas (what a request may send)."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any, NotRequired

from ninja import Field, Schema
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    PrivateAttr,
    field_validator,
    model_validator,
)
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from tessera.access.bridge import decisions

NAME = r"^[a-z][a-z0-9_.\-]{0,63}$"


def _id_text(value: str | int | None) -> str | None:
    """A resource id as text (1–256 characters)."""
    if value is None:
        return None
    text = str(value)
    if not text or len(text) > 256:
        raise ValueError("1–256 characters")
    return text


ResourceType = Annotated[str, Field(pattern=NAME, description="the resource type, e.g. `document`")]
ResourceId = Annotated[
    str | int | None, AfterValidator(_id_text), Field(description="an opaque id")
]
OwnerId = Annotated[str, Field(max_length=128)]
Department = Annotated[str, Field(max_length=120)]


class ResourceIn(BaseModel):
    type: ResourceType
    id: ResourceId = None
    owner_id: OwnerId | None = None
    department: Department | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)


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


class BatchResource(TypedDict):
    """`ResourceIn`, as a plain mapping: the same fields and rules."""

    type: ResourceType
    id: NotRequired[ResourceId]
    owner_id: NotRequired[OwnerId | None]
    department: NotRequired[Department | None]
    attributes: NotRequired[dict[str, Any]]


class BatchCheck(TypedDict):
    """`CheckIn`, as a plain mapping (absent keys read as None): the same fields and rules.
    A batch holds up to 1,000 of them, and validating a mapping costs a fraction of building a
    model instance (decision 0031)."""

    action: Annotated[str, Field(max_length=200, examples=["document:read"])]
    resource: NotRequired[BatchResource | None]
    context: NotRequired[ContextIn | None]
    subject_id: NotRequired[Annotated[str, Field(max_length=64)] | None]


class BatchIn(BaseModel):
    checks: list[BatchCheck] = Field(..., max_length=decisions.MAX_BATCH)
    _actions: list[decisions.Action] = PrivateAttr(default_factory=list)

    @model_validator(mode="after")
    def _parse_actions(self) -> BatchIn:
        """Each check's action, parsed once, here: a bad one refuses the whole batch (422 naming
        `checks[i].action`) before anything is looked up."""
        self._actions = [
            decisions.parse_action(check["action"], where=f"checks[{i}].action")
            for i, check in enumerate(self.checks)
        ]
        return self

    @property
    def actions(self) -> list[decisions.Action]:
        """The parsed action of each check, in order."""
        return self._actions


class SubjectsQuery(Schema):
    action: str = Field(..., max_length=200)
    resource_type: str | None = Field(None, pattern=NAME)
    resource_id: str | None = Field(None, max_length=256)
    limit: int | None = None
    cursor: str | None = Field(None, max_length=512)
