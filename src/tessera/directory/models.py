"""Directory data: a tenant's email domains and the mapping of directory groups to roles."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q


class DomainVerificationMethod(models.TextChoices):
    DNS_TXT = "dns-txt"
    PLATFORM = "platform"


class Domain(models.Model):
    """An email domain a tenant claims; verified by a DNS TXT record or a platform administrator.

    A domain may be claimed by several tenants, but verified by one only (the constraint
    `directory_domain_verified_once`): the verified owner routes and manages its addresses.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="+")
    domain = models.CharField(max_length=253, help_text="lower-case, ASCII (IDNA) form")
    verification_token = models.CharField(max_length=64)
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.CharField(
        max_length=16, choices=DomainVerificationMethod.choices, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["domain", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "domain"], name="directory_domain_claim"),
            models.UniqueConstraint(
                fields=["domain"],
                condition=Q(verified_at__isnull=False),
                name="directory_domain_verified_once",
            ),
        ]

    def __str__(self) -> str:
        return self.domain

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None


class GroupRoleMapping(models.Model):
    """One directory group name of a tenant and the roles it gives, whatever brings the group
    (an SSO `groups` claim, a SCIM group)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="+")
    group = models.CharField(max_length=256)
    roles = models.ManyToManyField("access.Role", related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["group", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "group"], name="directory_group_unique")
        ]

    def __str__(self) -> str:
        return self.group


class MappedAssignment(models.Model):
    """A role a member holds because of group mapping, and which sources give it.

    `sources` lists the sources (e.g. `sso:<provider id>`, `scim`) whose groups map to the role;
    when the last one drops it the role is taken away — unless `held_by_hand`: the member already
    held the role (given by hand) when mapping first gave it, and then it stays.
    """

    id = models.BigAutoField(primary_key=True)
    membership = models.ForeignKey("tenancy.Membership", on_delete=models.CASCADE, related_name="+")
    role = models.ForeignKey("access.Role", on_delete=models.CASCADE, related_name="+")
    sources = models.JSONField(default=list)
    held_by_hand = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["membership", "role"], name="directory_mapped_unique")
        ]

    def __str__(self) -> str:
        return f"{self.role_id} of {self.membership_id} via {','.join(self.sources)}"
