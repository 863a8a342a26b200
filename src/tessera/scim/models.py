"""SCIM credentials, the directory's view of a member (externalId, its SCIM document) and groups."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from tessera.tenancy.models import Membership, Tenant


class ScimToken(models.Model):
    """A tenant's SCIM bearer credential: `tscim_<prefix>_<secret>`, only its SHA-256 stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="scim_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, help_text="shown in lists to tell tokens apart")
    token_hash = models.CharField(max_length=64, unique=True, help_text="SHA-256, hex")
    created_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="scim_token_tenant_new")]

    def __str__(self) -> str:
        return f"SCIM token {self.name} ({self.prefix}) of {self.tenant_id}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ScimUser(models.Model):
    """What the directory knows of a member: its externalId (unique per tenant), the attributes
    Tessera has no field for (the SCIM document, kept as sent) and its searchable emails."""

    membership = models.OneToOneField(
        Membership, primary_key=True, on_delete=models.CASCADE, related_name="scim"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    external_id = models.CharField(max_length=255, null=True, blank=True)
    display_name = models.CharField(max_length=255, blank=True, db_index=True)
    document = models.JSONField(default=dict, blank=True)
    consent_pending = models.BooleanField(
        default=False,
        help_text="provisioned as an invitation: reactivation invites again, never activates",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "external_id"],
                condition=Q(external_id__isnull=False),
                name="scim_user_external_id_unique",
            )
        ]

    def __str__(self) -> str:
        return f"SCIM user {self.membership_id}"


class ScimEmail(models.Model):
    """One of a SCIM user's emails, searchable by filters (`emails.value`, `emails[type eq …]`)."""

    scim_user = models.ForeignKey(ScimUser, on_delete=models.CASCADE, related_name="emails")
    value = models.CharField(max_length=254)
    type = models.CharField(max_length=32, blank=True)
    primary = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["value"], name="scim_email_value")]

    def __str__(self) -> str:
        return self.value


class ScimGroup(models.Model):
    """A directory group pushed into the tenant; its members are memberships of the tenant."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="scim_groups")
    display_name = models.CharField(max_length=255)
    external_id = models.CharField(max_length=255, null=True, blank=True)
    members = models.ManyToManyField(
        Membership, related_name="scim_groups", blank=True, through="ScimGroupMember"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "display_name"], name="scim_group_display_name_unique"
            ),
            models.UniqueConstraint(
                fields=["tenant", "external_id"],
                condition=Q(external_id__isnull=False),
                name="scim_group_external_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name


class ScimGroupMember(models.Model):
    """A member of a directory group, with the `display` text the directory gave it."""

    group = models.ForeignKey(ScimGroup, on_delete=models.CASCADE, related_name="memberships")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    display = models.CharField(max_length=255, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "membership"], name="scim_group_member_unique")
        ]

    def __str__(self) -> str:
        return f"{self.membership_id} in {self.group_id}"


class ScimAttributeMap(models.Model):
    """A tenant's rule copying one SCIM attribute into the membership's `attributes`, e.g.
    `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:division` → `division`."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    scim_attribute = models.CharField(max_length=200, help_text="a SCIM attribute path")
    membership_attribute = models.CharField(
        max_length=64, help_text="the key in the membership's attributes"
    )

    class Meta:
        ordering = ["scim_attribute"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "membership_attribute"], name="scim_attribute_map_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scim_attribute} → attributes.{self.membership_attribute}"
