"""Competence records (ISO/IEC 17025 §6.2): a tenant's qualification types and members' records.

A record gives access only through role rules that name its type's code (`has_qualification`);
it counts while not revoked and `valid_from <= now < valid_until`. Records are never deleted by
the API (revocation keeps the history); erasing a member deletes theirs with the membership.
"""

from __future__ import annotations

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q

CODE_PATTERN = r"^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$"
code_validator = RegexValidator(
    CODE_PATTERN, "Use 1-64 lower-case letters, digits, dots, hyphens and underscores."
)
MIN_LEVEL, MAX_LEVEL = 1, 5


class QualificationKind(models.TextChoices):
    CERTIFICATION = "certification", "Certification"
    TRAINING = "training", "Training"
    EQUIPMENT = "equipment", "Equipment authorisation"
    METHOD = "method", "Test method competency"


class QualificationType(models.Model):
    """An entry of the tenant's catalog; `code` is what rules name, so it never changes."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(
        "tenancy.Tenant", on_delete=models.CASCADE, related_name="qualification_types"
    )
    code = models.CharField(max_length=64, validators=[code_validator])
    name = models.CharField(max_length=200)
    kind = models.CharField(
        max_length=16, choices=QualificationKind.choices, default=QualificationKind.CERTIFICATION
    )
    validity_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="default validity of a new record; empty = no expiry"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code"], name="qualification_type_code"),
            models.CheckConstraint(
                condition=Q(validity_days__isnull=True) | Q(validity_days__gte=1),
                name="qualification_type_validity_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class QualificationRecord(models.Model):
    """One member's qualification: level (approval authority 1-5), verifier, evidence, window."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="+")
    membership = models.ForeignKey(
        "tenancy.Membership", on_delete=models.CASCADE, related_name="qualifications"
    )
    type = models.ForeignKey(QualificationType, on_delete=models.PROTECT, related_name="records")
    level = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(MIN_LEVEL), MaxValueValidator(MAX_LEVEL)]
    )
    verified_by = models.ForeignKey(
        "tenancy.Membership", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    evidence = models.TextField(blank=True, max_length=2000)
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        "tenancy.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoke_reason = models.CharField(max_length=500, blank=True)
    expiry_notified_at = models.DateTimeField(
        null=True, blank=True, help_text="when the expiry alert was sent (once per record)"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level__gte=MIN_LEVEL) & Q(level__lte=MAX_LEVEL),
                name="qualification_record_level_range",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gt=F("valid_from")),
                name="qualification_record_window",
            ),
        ]
        indexes = [
            models.Index(fields=["membership", "revoked_at"], name="qualification_member_live"),
            models.Index(fields=["valid_until", "revoked_at"], name="qualification_expiring"),
        ]

    def __str__(self) -> str:
        return f"{self.type_id} level {self.level} of {self.membership_id}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
