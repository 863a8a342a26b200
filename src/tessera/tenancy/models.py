"""Tenants and memberships: where a person acts, and with which attributes there."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from tessera.tenancy.tenant_settings import TenantSettings, parse_tenant_settings

SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
slug_validator = RegexValidator(
    SLUG_PATTERN, "Use 1–63 lower-case letters, digits and inner hyphens."
)


def default_settings() -> dict:
    return TenantSettings().model_dump()


class Tenant(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    slug = models.SlugField(max_length=63, unique=True, validators=[slug_validator])
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    settings = models.JSONField(default=default_settings, blank=True)
    policy_version = models.PositiveBigIntegerField(
        default=1, help_text="Bumped by every change to the tenant's roles, rules and grants."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    @property
    def policy(self) -> TenantSettings:
        return parse_tenant_settings(self.settings)


class MembershipStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    INVITED = "invited", "Invited"


class Membership(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    status = models.CharField(
        max_length=16, choices=MembershipStatus.choices, default=MembershipStatus.ACTIVE
    )
    department = models.CharField(max_length=120, blank=True, db_index=True)
    job_title = models.CharField(max_length=120, blank=True)
    employee_id = models.CharField(max_length=64, null=True, blank=True)
    manager = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    cost_center = models.CharField(max_length=64, blank=True)
    clearance_level = models.PositiveSmallIntegerField(default=0)
    attributes = models.JSONField(default=dict, blank=True)
    gdpr_consent_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveBigIntegerField(
        default=1, help_text="Bumped by every change to this member's access."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "tenant"], name="tenancy_membership_unique"),
            models.UniqueConstraint(
                fields=["tenant", "employee_id"],
                condition=Q(employee_id__isnull=False),
                name="tenancy_membership_employee_id_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "status"]),
            # keyset pagination of a tenant's members (tessera.administration.member_selectors)
            models.Index(
                fields=["tenant", "created_at", "id"], name="tenancy_member_tenant_created"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.tenant_id}"

    @property
    def is_active(self) -> bool:
        return self.status == MembershipStatus.ACTIVE


class Invitation(models.Model):
    """An invitation to a membership: a single-use link mailed to `email` (SHA-256 stored).

    Pending while neither accepted nor revoked (expired ones stay pending until resent or
    revoked); at most one pending invitation per membership.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="invitations")
    membership = models.ForeignKey(
        Membership,
        null=True,
        on_delete=models.SET_NULL,
        related_name="invitations",
        help_text="null once the membership was removed (the invitation then counts as revoked)",
    )
    email = models.EmailField(max_length=254)
    token_hash = models.CharField(max_length=64, unique=True, help_text="SHA-256, hex")
    created_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField()
    send_count = models.PositiveIntegerField(default=1)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["membership"],
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="tenancy_invitation_one_pending",
            )
        ]
        indexes = [
            models.Index(
                fields=["tenant", "-created_at", "-id"], name="tenancy_invitation_tenant_new"
            )
        ]

    def __str__(self) -> str:
        return f"invitation {self.pk} of {self.email} to {self.tenant_id}"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None
