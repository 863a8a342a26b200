"""The schema of a tenant's `settings` JSON, with defaults (NIST SP 800-63B-4 / OWASP ASVS 5)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tessera.errors import ValidationFailed, field_error
from tessera.identity.passwords import PasswordPolicy
from tessera.origins import browser_origin


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class LockoutPolicy(_Strict):
    max_failures: int = Field(5, ge=1, le=100)
    lockout_minutes: int = Field(15, ge=1, le=1440)


class SessionPolicy(_Strict):
    max_sessions: int = Field(5, ge=1, le=100)
    idle_timeout_minutes: int = Field(24 * 60, ge=5, le=30 * 24 * 60)
    absolute_lifetime_minutes: int = Field(7 * 24 * 60, ge=15, le=90 * 24 * 60)


class MfaPolicy(_Strict):
    required: Literal["off", "all", "roles"] = "off"
    required_roles: list[str] = Field(default_factory=list)
    allow_trusted_devices: bool = True


class DelegationPolicy(_Strict):
    require_approval: bool = False
    max_days: int = Field(90, ge=1, le=366)


class RateLimitPolicy(_Strict):
    """Per-principal request budgets in this tenant; null = the deployment's defaults."""

    api_per_minute: int | None = Field(None, ge=1, le=1_000_000)
    bulk_per_minute: int | None = Field(None, ge=1, le=10_000)
    # authz/check and check/batch (a batch counts once): their own class, not api_per_minute
    decisions_per_minute: int | None = Field(None, ge=1, le=10_000_000)


class InvitationPolicy(_Strict):
    ttl_days: int = Field(7, ge=1, le=30, description="how long an invitation link works")


class ImpersonationPolicy(_Strict):
    """Support impersonation (`POST /api/v1/auth/impersonate`): off unless the tenant turns it on;
    while off no one holds `user:impersonate`, not even `*:*`."""

    enabled: bool = False
    max_minutes: int = Field(30, ge=1, le=480, description="longest impersonation session")


class AccessReviewPolicy(_Strict):
    reminder_interval_hours: int = Field(
        24, ge=1, le=24 * 14, description="how often a reviewer with overdue items is reminded"
    )


class QualificationPolicy(_Strict):
    expiry_notice_days: int = Field(
        30, ge=0, le=365, description="days before expiry to mail holders and managers; 0 = never"
    )


class SsoPolicy(_Strict):
    """Single sign-on (tessera.sso): `required` refuses password login to addresses of the
    tenant's verified domains; `mfa_from_provider` lets a provider's `amr` holding one of
    `mfa_amr` count as the tenant's MFA."""

    required: bool = False
    mfa_from_provider: bool = False
    mfa_amr: list[str] = Field(
        default_factory=lambda: ["mfa", "otp", "hwk", "swk", "sc", "fpt", "face", "pop"],
        max_length=20,
    )


class RetentionPolicy(_Strict):
    """How long the tenant's audit trail stays in the database (`tessera audit archive` refuses to
    move younger events out). One period for the whole chain: the hash chain links every event, so
    it is cut only as a whole prefix; 7 years by default, for security events."""

    audit_retention_days: int = Field(
        2557, ge=30, le=36_525, description="days audit events are kept before archiving"
    )
    data_retention_exempt: bool = Field(
        False, description="legal hold: nothing of this tenant is archived or deleted"
    )


class CorsPolicy(_Strict):
    """Browser applications allowed to call the API for this tenant (CORS, with credentials),
    besides the deployment's own origins (TESSERA_PUBLIC_URL, TESSERA_CORS_ORIGINS)."""

    allowed_origins: list[str] = Field(
        default_factory=list, max_length=50, description="https://host[:port] of each application"
    )

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, values: list[str]) -> list[str]:
        return list(dict.fromkeys(browser_origin(v) for v in values))


class TenantSettings(_Strict):
    password: PasswordPolicy = Field(default_factory=PasswordPolicy)
    lockout: LockoutPolicy = Field(default_factory=LockoutPolicy)
    sessions: SessionPolicy = Field(default_factory=SessionPolicy)
    mfa: MfaPolicy = Field(default_factory=MfaPolicy)
    delegation: DelegationPolicy = Field(default_factory=DelegationPolicy)
    rate_limits: RateLimitPolicy = Field(default_factory=RateLimitPolicy)
    invitations: InvitationPolicy = Field(default_factory=InvitationPolicy)
    impersonation: ImpersonationPolicy = Field(default_factory=ImpersonationPolicy)
    access_reviews: AccessReviewPolicy = Field(default_factory=AccessReviewPolicy)
    qualifications: QualificationPolicy = Field(default_factory=QualificationPolicy)
    sso: SsoPolicy = Field(default_factory=SsoPolicy)
    retention: RetentionPolicy = Field(default_factory=RetentionPolicy)
    cors: CorsPolicy = Field(default_factory=CorsPolicy)


def parse_tenant_settings(data: dict[str, Any] | None) -> TenantSettings:
    """Validate (and fill defaults into) a settings document; ValidationFailed lists each error."""
    try:
        return TenantSettings.model_validate(data or {})
    except ValidationError as exc:
        raise ValidationFailed(
            "Invalid tenant settings",
            errors=[
                field_error(
                    "settings." + ".".join(str(p) for p in err["loc"]), err["msg"], err["type"]
                )
                for err in exc.errors()
            ],
        ) from None


def merge_tenant_settings(current: dict[str, Any], patch: dict[str, Any]) -> TenantSettings:
    """Apply a partial update (nested objects merged key by key) and validate the result."""
    merged = {**current}
    for key, value in (patch or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return parse_tenant_settings(merged)
