"""The global identity: one User per person, no tenant field (tenancy lives in Membership)."""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower

from tessera.identity.emails import normalize_email


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        user = self.model(email=normalize_email(email), **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields.setdefault("is_platform_admin", True)
        return self.create_user(email, password, **fields)

    def get_by_natural_key(self, email: str | None) -> User:
        return self.get(email=normalize_email(email or ""))


class User(AbstractBaseUser):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(max_length=254, unique=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    language = models.CharField(max_length=16, default="en")
    avatar_url = models.URLField(max_length=500, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    is_platform_admin = models.BooleanField(
        default=False, help_text="May administer every tenant and use the admin UI."
    )
    is_service_account = models.BooleanField(
        default=False, help_text="A non-human identity: holds roles and API keys, never logs in."
    )
    must_change_password = models.BooleanField(default=False)
    # Who owns the identity (docs/identities.md): a tenant that created it manages it until the
    # person proves the email address (`email_verified_at`); then the person owns it.
    managed_by_tenant = models.ForeignKey(
        "tenancy.Tenant",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The tenant that created this identity and may still edit its profile.",
    )
    email_verified_at = models.DateTimeField(
        null=True, blank=True, help_text="When the person last proved the email address."
    )
    password_changed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_activity_at = models.DateTimeField(null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="identity_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = normalize_email(self.email)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    # The Django admin asks these; only platform administrators may use it.
    @property
    def is_staff(self) -> bool:
        return self.is_active and self.is_platform_admin

    @property
    def is_superuser(self) -> bool:
        return self.is_staff

    def has_perm(self, perm: str, obj: object = None) -> bool:
        return self.is_staff

    def has_perms(self, perm_list, obj: object = None) -> bool:
        return self.is_staff

    def has_module_perms(self, app_label: str) -> bool:
        return self.is_staff

    @property
    def is_owned(self) -> bool:
        """No tenant manages the identity: only the person edits its profile."""
        return self.managed_by_tenant_id is None


class PasswordHistory(models.Model):
    """A password hash the user had before, kept for the tenant "history of the last N" rule."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField(max_length=256, help_text="the former hash, never a raw password")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"password of {self.user_id} until {self.created_at:%Y-%m-%d}"


class TotpFactor(models.Model):
    """A user's TOTP authenticator (one per user): pending until a code confirms it.

    The secret is sealed at rest (AES-GCM, tessera.crypto; the row id is the associated data) and
    never shown again after setup. `last_used_step` is the time step of the last accepted code:
    a code of that step or an earlier one is a replay.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="totp_factor")
    secret_encrypted = models.TextField(help_text="AES-GCM under a key derived from SECRET_KEY")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_used_step = models.BigIntegerField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        state = "active" if self.confirmed_at else "pending"
        return f"TOTP of {self.user_id} ({state})"


class BackupCode(models.Model):
    """A single-use recovery code, stored only as a salted slow hash (Argon2id, see identity.mfa).

    The ten codes of one batch share `salt` and `params`: checking a code costs one hash.
    """

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="backup_codes")
    code_hash = models.CharField(max_length=64, help_text="Argon2id of the code, hex")
    salt = models.CharField(max_length=64, help_text="the batch's random salt (16 bytes), hex")
    params = models.CharField(max_length=64, help_text="Argon2id cost: t=<time>,m=<KiB>,p=<lanes>")
    created_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "code_hash"], name="identity_backup_code_unique"
            )
        ]

    def __str__(self) -> str:
        return f"backup code {self.pk} of {self.user_id}"


class EmailVerificationToken(models.Model):
    """A single-use email-verification link; only the token's SHA-256 is stored."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="email_tokens")
    email = models.EmailField(max_length=254, help_text="the address the link proves")
    token_hash = models.CharField(max_length=64, unique=True, help_text="SHA-256, hex")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return f"email verification {self.pk} of {self.user_id}"
