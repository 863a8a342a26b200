"""Access review campaigns and their items: one item per role, grant or override of a member in
scope, assigned to a reviewer who keeps or revokes it (SOC 2 CC6.2–CC6.4, CC6.6).

Items keep a snapshot of what they were about (`label`, `detail`, the member's and reviewer's user
ids), so the report still says who reviewed what after the access, or the membership, is gone.
"""

from __future__ import annotations

import uuid

from django.db import models


class ReviewStatus(models.TextChoices):
    OPEN = "open"
    COMPLETED = "completed"


class ItemKind(models.TextChoices):
    ROLE = "role"
    GRANT = "grant"
    OVERRIDE = "override"


class Decision(models.TextChoices):
    PENDING = "pending"
    KEEP = "keep"
    REVOKE = "revoke"


class AccessReview(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    scope = models.JSONField(default=dict)
    status = models.CharField(
        max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.OPEN
    )
    due_at = models.DateTimeField()
    created_by = models.ForeignKey(
        "tenancy.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    fallback_reviewer = models.ForeignKey(
        "tenancy.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-created_at"]),
            models.Index(fields=["status", "due_at"]),
        ]

    def __str__(self) -> str:
        return f"access review {self.name!r} of {self.tenant_id}"


class AccessReviewItem(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    review = models.ForeignKey(AccessReview, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField(help_text="order within the campaign (pagination)")
    membership = models.ForeignKey(
        "tenancy.Membership", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    user_id = models.UUIDField(help_text="the member whose access this is")
    reviewer = models.ForeignKey(
        "tenancy.Membership", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewer_user_id = models.UUIDField(null=True)
    kind = models.CharField(max_length=16, choices=ItemKind.choices)
    role = models.ForeignKey(
        "access.Role", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    grant = models.ForeignKey(
        "access.Grant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    label = models.CharField(max_length=300)
    detail = models.JSONField(default=dict, help_text="the role, grant or rule as it was")
    decision = models.CharField(max_length=16, choices=Decision.choices, default=Decision.PENDING)
    applied = models.BooleanField(
        default=False, help_text="a revoke that removed access (false: it was already gone)"
    )
    note = models.CharField(max_length=1000, blank=True)
    decided_by_user_id = models.UUIDField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["review", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["review", "position"], name="reviews_item_position_unique"
            )
        ]
        indexes = [models.Index(fields=["reviewer", "decision"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.label} of {self.user_id}"
