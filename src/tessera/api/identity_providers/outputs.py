"""What the identity providers endpoints answer, and the shaping into it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema


class ProviderOut(Schema):
    id: str
    kind: str
    name: str
    issuer: str
    discovery_url: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    client_id: str
    client_secret_set: bool
    scopes: list[str]
    jit: bool
    enabled: bool
    claim_mapping: dict[str, str]
    group_claim: str
    group_prefix: str
    default_roles: list[str]
    group_mapping: list[dict[str, Any]]
    return_origins: list[str]
    allowed_tenants: list[str]
    hosted_domain: str
    start_url: str
    redirect_uri: str
    created_at: datetime
    updated_at: datetime


class ProviderPage(Schema):
    items: list[ProviderOut]
    next_cursor: str | None
