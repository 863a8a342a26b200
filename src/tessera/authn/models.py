"""Server-side sessions: one per login, listable and revocable."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class AuthMethod(models.TextChoices):
    PASSWORD = "password"
    PASSWORD_MFA = "password+mfa"
    TRUSTED_DEVICE = "password+device"
    ADMIN = "admin"


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
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    device_info = models.JSONField(default=dict, blank=True)
    auth_method = models.CharField(max_length=32, choices=AuthMethod.choices)
    password_verified_at = models.DateTimeField(null=True, blank=True)
    mfa_verified_at = models.DateTimeField(null=True, blank=True)
    risk_score = models.PositiveSmallIntegerField(default=0)
    password_change_required = models.BooleanField(default=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "revoked_at"]),
            models.Index(fields=["absolute_expires_at"]),
        ]

    def __str__(self) -> str:
        return f"session {self.pk} of {self.user_id}"
