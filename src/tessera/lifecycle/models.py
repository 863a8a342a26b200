"""Joiner templates, what they gave each member, and offboardings (leavers)."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q


class JoinerTemplate(models.Model):
    """A tenant's onboarding: roles by department or job title, MFA, welcome mail, first review.

    `rules`: `[{"department"?: str, "job_title"?: str, "roles": [slug, …]}, …]`; a rule applies
    when each key it names equals the member's value (a rule naming neither applies to everyone);
    the member gets the union of the roles of every rule that applies.
    """

    tenant = models.OneToOneField(
        "tenancy.Tenant", primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    rules = models.JSONField(default=list, blank=True)
    require_mfa = models.BooleanField(default=False)
    welcome_mail = models.BooleanField(default=True)
    first_review_after_days = models.PositiveIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        "tenancy.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )


class JoinerRecord(models.Model):
    """What the template gave one member: the roles (removed again when they move), whether MFA
    is required of them, and when their first access review is due (tessera.lifecycle.joiner)."""

    membership = models.OneToOneField(
        "tenancy.Membership", primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="+")
    template_roles = models.JSONField(default=list, blank=True)
    mfa_required = models.BooleanField(default=False)
    first_review_due_at = models.DateTimeField(null=True, blank=True)
    first_review_started_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["first_review_due_at"],
                condition=Q(first_review_started_at__isnull=True),
                name="lifecycle_first_review_due",
            )
        ]


class OffboardingStatus(models.TextChoices):
    OFFBOARDED = "offboarded"
    CANCELLED = "cancelled"
    ERASED = "erased"


class Offboarding(models.Model):
    """A leaver: suspended with every credential revoked; erased at `erase_at` unless cancelled.

    `steps` records what each step did; `export` is the member's data as of the offboarding
    (the GDPR export), kept until the erasure or the cancellation drops it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="+")
    membership = models.ForeignKey(
        "tenancy.Membership", null=True, on_delete=models.SET_NULL, related_name="offboardings"
    )
    user_id = models.UUIDField(help_text="the leaver's global id (kept after the erasure)")
    status = models.CharField(
        max_length=16, choices=OffboardingStatus.choices, default=OffboardingStatus.OFFBOARDED
    )
    transfer_to = models.ForeignKey(
        "tenancy.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    erase_at = models.DateTimeField()
    steps = models.JSONField(default=dict)
    export = models.JSONField(null=True, blank=True)
    created_by = models.ForeignKey(
        "tenancy.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["membership"],
                condition=Q(status="offboarded"),
                name="lifecycle_one_open_offboarding",
            )
        ]
        indexes = [
            models.Index(
                fields=["erase_at"],
                condition=Q(status="offboarded"),
                name="lifecycle_erasure_due",
            )
        ]
