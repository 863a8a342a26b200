"""What the identity providers endpoints accept."""

from __future__ import annotations

from typing import Literal

from ninja import Field, Schema
from pydantic import ConfigDict

Kind = Literal["oidc", "entra", "google", "okta"]


class GroupRule(Schema):
    model_config = ConfigDict(extra="forbid")

    group: str = Field(..., max_length=256)
    roles: list[str] = Field(..., max_length=100)


class ProviderFields(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=120)
    issuer: str | None = Field(None, max_length=500, description="expected `iss`; `{tid}` allowed")
    discovery_url: str | None = Field(None, max_length=500)
    entra_tenant_id: str | None = Field(
        None, max_length=100, description="Entra: directory id, or `organizations` (multi-tenant)"
    )
    authorization_endpoint: str | None = Field(None, max_length=500)
    token_endpoint: str | None = Field(None, max_length=500)
    jwks_uri: str | None = Field(None, max_length=500)
    client_id: str | None = Field(None, max_length=255)
    client_secret: str | None = Field(None, max_length=2000, description="write-only, sealed")
    scopes: list[str] | None = Field(None, max_length=30)
    jit: bool | None = None
    enabled: bool | None = None
    claim_mapping: dict[str, str] | None = None
    group_claim: str | None = Field(None, max_length=120)
    group_prefix: str | None = Field(None, max_length=120)
    default_roles: list[str] | None = Field(None, max_length=50)
    group_mapping: list[GroupRule] | None = Field(None, max_length=1000)
    return_origins: list[str] | None = Field(None, max_length=50)
    allowed_tenants: list[str] | None = Field(None, max_length=50)
    hosted_domain: str | None = Field(None, max_length=253)


class ProviderIn(ProviderFields):
    kind: Kind = "oidc"
    name: str = Field(..., max_length=120)
    client_id: str = Field(..., max_length=255)


class ProviderPatch(ProviderFields):
    kind: Kind | None = None
