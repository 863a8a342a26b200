"""Append-only, hash-chained audit events (one chain per tenant, one for platform events).

The personal fields of an event (`ip`, `user_agent`, `changes`) are not hashed into the chain
directly: the chain hash covers `pii_hash`, a salted SHA-256 commitment to them. Erasing a
person (GDPR) may therefore *redact* an event — blank those three fields and its salt, stamp
`redacted_at` — and the chain still verifies; redaction is the only update the ORM
(`tessera.audit.services.audit_redact`) and the PostgreSQL trigger permit.
"""

from __future__ import annotations

import uuid

from django.db import models


class AuditEventType(models.TextChoices):
    LOGIN = "LOGIN"
    LOGIN_FAILED = "LOGIN_FAILED"
    LOGOUT = "LOGOUT"
    SESSION_REVOKED = "SESSION_REVOKED"
    TOKEN_REUSE_DETECTED = "TOKEN_REUSE_DETECTED"
    PASSWORD_CHANGE = "PASSWORD_CHANGE"
    PASSWORD_RESET = "PASSWORD_RESET"
    ACCOUNT_LOCKED = "ACCOUNT_LOCKED"
    MFA_ENABLED = "MFA_ENABLED"
    MFA_DISABLED = "MFA_DISABLED"
    BACKUP_CODE_USED = "BACKUP_CODE_USED"
    PROFILE_UPDATE = "PROFILE_UPDATE"
    USER_CREATED = "USER_CREATED"
    USER_DEACTIVATED = "USER_DEACTIVATED"
    USER_REACTIVATED = "USER_REACTIVATED"
    MEMBERSHIP_REMOVED = "MEMBERSHIP_REMOVED"
    ROLE_CREATED = "ROLE_CREATED"
    ROLE_UPDATED = "ROLE_UPDATED"
    ROLE_DELETED = "ROLE_DELETED"
    ROLE_ASSIGNED = "ROLE_ASSIGNED"
    ROLE_REMOVED = "ROLE_REMOVED"
    PERMISSION_CHANGE = "PERMISSION_CHANGE"
    GRANT_CREATED = "GRANT_CREATED"
    GRANT_REVOKED = "GRANT_REVOKED"
    DELEGATION_CREATED = "DELEGATION_CREATED"
    DELEGATION_APPROVED = "DELEGATION_APPROVED"
    DELEGATION_REVOKED = "DELEGATION_REVOKED"
    API_KEY_CREATED = "API_KEY_CREATED"
    API_KEY_REVOKED = "API_KEY_REVOKED"
    TENANT_CREATED = "TENANT_CREATED"
    TENANT_UPDATED = "TENANT_UPDATED"
    TENANT_DEACTIVATED = "TENANT_DEACTIVATED"
    TENANT_SETTINGS_CHANGED = "TENANT_SETTINGS_CHANGED"
    SIGNING_KEY_ROTATED = "SIGNING_KEY_ROTATED"
    DATA_EXPORTED = "DATA_EXPORTED"
    DATA_ERASED = "DATA_ERASED"
    SUSPICIOUS_ACTIVITY = "SUSPICIOUS_ACTIVITY"
    INVITATION_CREATED = "INVITATION_CREATED"
    INVITATION_RESENT = "INVITATION_RESENT"
    INVITATION_REVOKED = "INVITATION_REVOKED"
    INVITATION_ACCEPTED = "INVITATION_ACCEPTED"
    EMAIL_VERIFIED = "EMAIL_VERIFIED"
    IMPERSONATION_STARTED = "IMPERSONATION_STARTED"
    IMPERSONATION_ENDED = "IMPERSONATION_ENDED"
    ACCESS_REVIEW_CREATED = "ACCESS_REVIEW_CREATED"
    ACCESS_REVIEW_DECISION = "ACCESS_REVIEW_DECISION"
    ACCESS_REVIEW_COMPLETED = "ACCESS_REVIEW_COMPLETED"
    QUALIFICATION_TYPE_CREATED = "QUALIFICATION_TYPE_CREATED"
    QUALIFICATION_GRANTED = "QUALIFICATION_GRANTED"
    QUALIFICATION_REVOKED = "QUALIFICATION_REVOKED"
    JOINER_TEMPLATE_CHANGED = "JOINER_TEMPLATE_CHANGED"
    MEMBER_MOVED = "MEMBER_MOVED"
    MEMBER_OFFBOARDED = "MEMBER_OFFBOARDED"
    OFFBOARDING_CANCELLED = "OFFBOARDING_CANCELLED"
    IDP_CREATED = "IDP_CREATED"
    IDP_UPDATED = "IDP_UPDATED"
    IDP_DELETED = "IDP_DELETED"
    IDENTITY_LINKED = "IDENTITY_LINKED"
    SCIM_TOKEN_CREATED = "SCIM_TOKEN_CREATED"
    SCIM_TOKEN_REVOKED = "SCIM_TOKEN_REVOKED"
    SCIM_GROUP_CREATED = "SCIM_GROUP_CREATED"
    SCIM_GROUP_UPDATED = "SCIM_GROUP_UPDATED"
    SCIM_GROUP_DELETED = "SCIM_GROUP_DELETED"
    AUDIT_ARCHIVED = "AUDIT_ARCHIVED"


class ActorType(models.TextChoices):
    USER = "user"
    API_KEY = "api_key"
    SCIM = "scim"  # a tenant's SCIM credential; its id is in actor_api_key_id
    SYSTEM = "system"


class AuditChain(models.Model):
    """The head of one hash chain; locked while an event is appended so the chain stays linear.

    `archived_length` / `archived_last_hash`: the chain's prefix moved out of the database by
    `tessera audit archive` (its last position and hash); verification starts after it.
    """

    key = models.CharField(max_length=64, primary_key=True)
    last_hash = models.CharField(max_length=64, default="")
    length = models.PositiveBigIntegerField(default=0)
    archived_length = models.PositiveBigIntegerField(default=0)
    archived_last_hash = models.CharField(max_length=64, default="", blank=True)


class AuditEventQuerySet(models.QuerySet):
    """Refuses bulk updates and deletes; only `audit_redact` bypasses it, on purpose."""

    def update(self, **kwargs):
        raise PermissionError("audit events are append-only")

    def delete(self):
        raise PermissionError("audit events are append-only")


class AuditEvent(models.Model):
    """One event. On PostgreSQL the table is partitioned by month of `created_at` (migration
    0010): there the primary key is (id, created_at) and the (chain, seq) constraint also holds
    created_at — the database cannot enforce uniqueness across partitions without the partition
    key. Django still treats `id` as the primary key (it is unique: a random UUID), and a chain's
    positions stay unique because appends serialise on the chain head (`AuditChain`, locked)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    seq = models.PositiveBigIntegerField(help_text="position in its chain, from 1")
    chain = models.CharField(max_length=64, db_index=True)
    tenant = models.ForeignKey(
        "tenancy.Tenant", null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False
    )
    actor_type = models.CharField(max_length=16, choices=ActorType.choices)
    actor_user_id = models.UUIDField(null=True, blank=True, db_index=True)
    actor_membership_id = models.UUIDField(null=True, blank=True)
    actor_api_key_id = models.UUIDField(null=True, blank=True)
    actor_impersonator_id = models.UUIDField(
        null=True, blank=True, help_text="the person acting through an impersonation session"
    )
    type = models.CharField(max_length=40, choices=AuditEventType.choices, db_index=True)
    resource_type = models.CharField(max_length=64, blank=True)
    resource_id = models.CharField(max_length=128, blank=True)
    changes = models.JSONField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    risk_score = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()
    pii_salt = models.CharField(
        max_length=32,
        blank=True,
        default="",
        help_text="random per event; blanked by redaction so the commitment cannot be guessed",
    )
    pii_hash = models.CharField(
        max_length=64,
        default="",
        help_text="SHA-256 of ip, user_agent, changes and pii_salt; the chain hash covers it",
    )
    redacted_at = models.DateTimeField(
        null=True, blank=True, help_text="when ip, user_agent and changes were erased"
    )
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-seq"]
        constraints = [
            models.UniqueConstraint(fields=["chain", "seq"], name="audit_event_chain_seq_unique")
        ]
        indexes = [models.Index(fields=["tenant", "-created_at"])]

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("audit events are append-only")
