"""Who is calling: the authenticated principal a request carries after PrincipalMiddleware."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(slots=True)
class Principal:
    user: Any  # tessera.identity.models.User (or a lazy stand-in with .pk/.id)
    auth_method: str  # "access_token" | "session_cookie" | "api_key"
    session_id: Any = None
    tenant_id: Any = None  # the tenant the credential is bound to (token `tid`, API key), if any
    membership_id: Any = None
    api_key_id: Any = None
    scopes: frozenset[str] | None = None  # API-key scopes (None = unrestricted)
    token_claims: dict[str, Any] = field(default_factory=dict)
    mfa_verified_at: datetime | None = None
    risk_score: int = 0
    password_change_required: bool = False
    mfa_setup_required: bool = False
    device_trusted: bool = False  # the session began on a device the user trusted after MFA
    impersonator_id: Any = None  # an impersonation session: who acts as `user` (token `act.sub`)
    tenant_version: int = 0
    membership_version: int = 0
    # Set when the credential is bound to a tenant and `access_state` proved this request that the
    # membership and tenant are active: lazy objects (their ids known, the rows loaded on first
    # use), so tenant resolution needs no query of its own.
    membership: Any = None
    tenant: Any = None

    @property
    def user_id(self):
        return self.user.pk
