"""Tenant-scoped access data: roles and their rules, assignments, overrides, grants, delegations."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q


class Effect(models.TextChoices):
    ALLOW = "allow"
    DENY = "deny"


class Scope(models.TextChoices):
    ALL = "all"
    OWN = "own"
    TEAM = "team"
    DEPARTMENT = "department"


class Permission(models.Model):
    """The catalog: system entries (tenant NULL) for Tessera's API, plus tenant-defined ones."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(
        "tenancy.Tenant", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    permission = models.CharField(max_length=128)
    description = models.CharField(max_length=300, blank=True)
    is_system = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["permission"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "permission"], name="access_permission_tenant_unique"
            ),
            models.UniqueConstraint(
                fields=["permission"],
                condition=Q(tenant__isnull=True),
                name="access_permission_system_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.permission


class Role(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="roles")
    slug = models.SlugField(max_length=64)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    parents = models.ManyToManyField("self", symmetrical=False, blank=True, related_name="children")
    is_system = models.BooleanField(default=False)
    max_members = models.PositiveIntegerField(null=True, blank=True)
    ui_config = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "slug"], name="access_role_tenant_slug")
        ]

    def __str__(self) -> str:
        return self.slug


class RuleFields(models.Model):
    """The columns every rule shares (role rules and membership overrides)."""

    effect = models.CharField(max_length=8, choices=Effect.choices, default=Effect.ALLOW)
    permission = models.CharField(max_length=128)
    scope = models.CharField(max_length=16, choices=Scope.choices, default=Scope.ALL)
    condition = models.JSONField(null=True, blank=True)
    fields = models.JSONField(default=dict, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True

    def as_dict(self) -> dict:
        rule = {"effect": self.effect, "permission": self.permission, "scope": self.scope}
        if self.condition:
            rule["condition"] = self.condition
        if self.fields:
            rule["fields"] = self.fields
        return rule


class RoleRule(RuleFields):
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="rules")

    class Meta:
        ordering = ["role", "position", "id"]


class RoleAssignment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    membership = models.ForeignKey(
        "tenancy.Membership", on_delete=models.CASCADE, related_name="role_assignments"
    )
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="assignments")
    granted_by = models.ForeignKey(
        "tenancy.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["membership", "role"], name="access_assignment_unique")
        ]


class MembershipOverride(RuleFields):
    membership = models.ForeignKey(
        "tenancy.Membership", on_delete=models.CASCADE, related_name="overrides"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["membership", "position", "id"]


class Grant(models.Model):
    """Object-level: `permission` on exactly one resource, to a member or to a role's holders."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="+")
    membership = models.ForeignKey(
        "tenancy.Membership", null=True, blank=True, on_delete=models.CASCADE, related_name="grants"
    )
    role = models.ForeignKey(
        Role, null=True, blank=True, on_delete=models.CASCADE, related_name="grants"
    )
    permission = models.CharField(max_length=128)
    resource_type = models.CharField(max_length=64)
    resource_id = models.CharField(max_length=128)
    expires_at = models.DateTimeField(null=True, blank=True)
    granted_by = models.ForeignKey(
        "tenancy.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(membership__isnull=False) & Q(role__isnull=True))
                | (Q(membership__isnull=True) & Q(role__isnull=False)),
                name="access_grant_one_subject",
            )
        ]
        indexes = [models.Index(fields=["tenant", "resource_type", "resource_id"])]


class DelegationStatus(models.TextChoices):
    PENDING = "pending"
    ACTIVE = "active"
    REVOKED = "revoked"
    REJECTED = "rejected"


class Delegation(models.Model):
    """The delegator lends a role or some permissions to the delegate for a window."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="+")
    delegator = models.ForeignKey(
        "tenancy.Membership", on_delete=models.CASCADE, related_name="delegations_given"
    )
    delegate = models.ForeignKey(
        "tenancy.Membership", on_delete=models.CASCADE, related_name="delegations_received"
    )
    role = models.ForeignKey(Role, null=True, blank=True, on_delete=models.CASCADE)
    permissions = models.JSONField(default=list, blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=500, blank=True)
    status = models.CharField(
        max_length=16, choices=DelegationStatus.choices, default=DelegationStatus.ACTIVE
    )
    created_by = models.ForeignKey(
        "tenancy.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_by = models.ForeignKey(
        "tenancy.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="access_delegation_window"
            )
        ]
        indexes = [models.Index(fields=["delegate", "status"])]
