"""Server-side sessions, their rotating refresh tokens, password-reset tokens and signing keys.

Secrets are never stored: refresh and reset tokens by their SHA-256 only, the signing keys'
private halves encrypted (AES-GCM under a key derived from SECRET_KEY, see tessera.authn.keys).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class AuthMethod(models.TextChoices):
    PASSWORD = "password"
    PASSWORD_MFA = "password+mfa"
    TRUSTED_DEVICE = "password+device"
    ADMIN = "admin"
    IMPERSONATION = "impersonation"
    SSO = "sso"
    SSO_MFA = "sso+mfa"


class Session(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="auth_sessions"
    )
    tenant = models.ForeignKey(
        "tenancy.Tenant", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    membership = models.ForeignKey(
        "tenancy.Membership", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_activity_at = models.DateTimeField()
    expires_at = models.DateTimeField(help_text="idle expiry; moves with activity")
    absolute_expires_at = models.DateTimeField()
    idle_seconds = models.PositiveIntegerField(
        default=24 * 3600, help_text="idle timeout of this session (from the tenant at login)"
    )
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    device_info = models.JSONField(default=dict, blank=True)
    auth_method = models.CharField(max_length=32, choices=AuthMethod.choices)
    password_verified_at = models.DateTimeField(null=True, blank=True)
    mfa_verified_at = models.DateTimeField(null=True, blank=True)
    risk_score = models.PositiveSmallIntegerField(default=0)
    password_change_required = models.BooleanField(default=False)
    mfa_setup_required = models.BooleanField(
        default=False, help_text="the tenant requires MFA: only its setup is allowed until then"
    )
    device_trusted = models.BooleanField(
        default=False, help_text="signed in from a device the user trusted after an MFA check"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=64, blank=True)
    impersonator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="set on an impersonation session: who acts as `user` (tokens carry `act`)",
    )
    impersonation_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "revoked_at"]),
            models.Index(fields=["absolute_expires_at"]),
        ]

    def __str__(self) -> str:
        return f"session {self.pk} of {self.user_id}"


class RefreshToken(models.Model):
    """One link of a session's refresh-token chain; the raw token is shown once, then only hashed.

    Presenting a token whose `spent_at` is set (it was already exchanged) revokes the session —
    except a benign retry: the same client (IP and user agent) presenting it again within
    `REFRESH_REUSE_GRACE_SECONDS` of the exchange, before the replacement was used (401, no
    revocation: a lost response or a double submit, not a stolen token).
    """

    id = models.BigAutoField(primary_key=True)
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="refresh_tokens")
    token_hash = models.CharField(max_length=64, unique=True, help_text="SHA-256, hex")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    spent_at = models.DateTimeField(null=True, blank=True)
    spent_by = models.CharField(
        max_length=64, blank=True, help_text="SHA-256 of the spending client's IP and user agent"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    replaced_by = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replaces"
    )

    class Meta:
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return f"refresh token {self.pk} of session {self.session_id}"


class PasswordResetToken(models.Model):
    """A single-use password-reset link (1 hour); only the token's SHA-256 is stored."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="password_reset_tokens"
    )
    token_hash = models.CharField(max_length=64, unique=True, help_text="SHA-256, hex")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return f"password reset {self.pk} of {self.user_id}"


class SigningKey(models.Model):
    """A JWT signing key pair: one is current; retired ones verify while their tokens live."""

    kid = models.CharField(max_length=64, primary_key=True, help_text="RFC 7638 thumbprint")
    alg = models.CharField(max_length=16, default="EdDSA")
    public_key = models.TextField(help_text="the public key as JWK `x` (base64url)")
    private_key_encrypted = models.TextField(help_text="AES-GCM, key derived from SECRET_KEY")
    is_current = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"],
                condition=models.Q(is_current=True),
                name="authn_signingkey_one_current",
            )
        ]

    def __str__(self) -> str:
        return f"{self.alg} key {self.kid}"


class MfaChallenge(models.Model):
    """The pending second step of a password login (POST /api/v1/auth/mfa/verify).

    Its token is shown once (only the SHA-256 is kept), lives 5 minutes, works once, and only
    from the client (IP and user agent, hashed) whose password was verified.
    """

    id = models.BigAutoField(primary_key=True)
    token_hash = models.CharField(max_length=64, unique=True, help_text="SHA-256, hex")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    tenant = models.ForeignKey(
        "tenancy.Tenant", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    membership = models.ForeignKey(
        "tenancy.Membership", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    lockout_tenant = models.ForeignKey(
        "tenancy.Tenant",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="the tenant named at login, whose lockout counters the failures join",
    )
    client_hash = models.CharField(max_length=64, help_text="SHA-256 of IP and user agent")
    password_verified_at = models.DateTimeField()
    password_change_required = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return f"MFA challenge {self.pk} of {self.user_id}"


class TrustedDevice(models.Model):
    """A browser or app the user chose to trust after an MFA check: its token skips the MFA step
    of later logins for 30 days (unless revoked, or the tenant forbids trusted devices)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="trusted_devices"
    )
    token_hash = models.CharField(max_length=64, unique=True, help_text="SHA-256, hex")
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    created_at = models.DateTimeField()
    mfa_verified_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "revoked_at"]),
            models.Index(fields=["expires_at"]),
        ]

    def __str__(self) -> str:
        return f"trusted device {self.pk} of {self.user_id}"


class ApiKey(models.Model):
    """A long-lived credential of one membership: `tsk_<prefix>_<secret>`, shown once.

    Only the prefix (lookup) and the SHA-256 of the whole key are stored. Its scopes narrow what
    the membership may do (the effective permission is the intersection, evaluated per request).
    Usage (`last_used_at`, `use_count`) is written in batches, not per request.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="+")
    membership = models.ForeignKey(
        "tenancy.Membership", on_delete=models.CASCADE, related_name="api_keys"
    )
    created_by = models.ForeignKey(
        "tenancy.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=8, unique=True)
    key_hash = models.CharField(max_length=64, help_text="SHA-256 of the whole key, hex")
    scopes = models.JSONField(default=list)
    allowed_ips = models.JSONField(default=list, blank=True, help_text="CIDR networks")
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=64, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)
    use_count = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "revoked_at", "-created_at"]),
            models.Index(fields=["membership", "revoked_at"]),
        ]

    def __str__(self) -> str:
        return f"API key {self.prefix} ({self.name})"
