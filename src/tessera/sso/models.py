"""Single sign-on data: a tenant's identity providers, links of provider subjects to people,
sign-in attempts in flight and one-time codes."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class ProviderKind(models.TextChoices):
    OIDC = "oidc", "Any OpenID Connect provider"
    ENTRA = "entra", "Microsoft Entra ID"
    GOOGLE = "google", "Google Workspace"
    OKTA = "okta", "Okta"


class IdentityProvider(models.Model):
    """One OpenID Connect provider of a tenant. The client secret is sealed (tessera.crypto,
    the row id as associated data) and never shown again."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=ProviderKind.choices, default=ProviderKind.OIDC)
    name = models.CharField(max_length=120)
    issuer = models.CharField(
        max_length=500, help_text="expected `iss`; Entra multi-tenant: with `{tid}`"
    )
    discovery_url = models.URLField(max_length=500, blank=True)
    authorization_endpoint = models.URLField(max_length=500, blank=True)
    token_endpoint = models.URLField(max_length=500, blank=True)
    jwks_uri = models.URLField(max_length=500, blank=True)
    client_id = models.CharField(max_length=255)
    client_secret_sealed = models.TextField(blank=True)
    scopes = models.JSONField(default=list)
    jit = models.BooleanField(default=False, help_text="create members on their first sign-in")
    enabled = models.BooleanField(default=True)
    claim_mapping = models.JSONField(default=dict, blank=True)
    group_claim = models.CharField(max_length=120, blank=True)
    group_prefix = models.CharField(max_length=120, blank=True)
    default_roles = models.JSONField(default=list, blank=True)
    return_origins = models.JSONField(default=list, blank=True)
    allowed_tenants = models.JSONField(
        default=list, blank=True, help_text="Entra `{tid}` issuers: the directory ids allowed"
    )
    hosted_domain = models.CharField(max_length=253, blank=True, help_text="Google: the `hd`")
    metadata = models.JSONField(default=dict, blank=True)
    metadata_fetched_at = models.DateTimeField(null=True, blank=True)
    jwks = models.JSONField(default=dict, blank=True)
    jwks_fetched_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["tenant", "created_at", "id"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class ExternalIdentity(models.Model):
    """A person as a provider knows them: (issuer, subject) → one global identity. The only
    key a returning sign-in is recognised by — never the email claim."""

    id = models.BigAutoField(primary_key=True)
    issuer = models.CharField(max_length=500)
    subject = models.CharField(max_length=255)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="external_identities"
    )
    provider = models.ForeignKey(
        IdentityProvider, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    email_at_link = models.EmailField(max_length=254, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="sso_external_unique")
        ]

    def __str__(self) -> str:
        return f"{self.subject}@{self.issuer}"


class SsoAttempt(models.Model):
    """A sign-in sent to a provider and not back yet: `state` (stored as SHA-256) bound to the
    browser that started it (SHA-256 of its cookie), the nonce and the PKCE verifier."""

    id = models.BigAutoField(primary_key=True)
    provider = models.ForeignKey(IdentityProvider, on_delete=models.CASCADE, related_name="+")
    state_hash = models.CharField(max_length=64, unique=True)
    browser_hash = models.CharField(max_length=64)
    nonce = models.CharField(max_length=128)
    code_verifier = models.CharField(max_length=128)
    return_to = models.URLField(max_length=2000, blank=True)
    mode = models.CharField(max_length=8, default="code")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)


class SsoCode(models.Model):
    """A one-time code for single-page and native apps: exchanged once, within 60 seconds,
    for the login answer (only its SHA-256 is stored)."""

    id = models.BigAutoField(primary_key=True)
    code_hash = models.CharField(max_length=64, unique=True)
    provider = models.ForeignKey(IdentityProvider, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    membership = models.ForeignKey("tenancy.Membership", on_delete=models.CASCADE, related_name="+")
    mfa_satisfied = models.BooleanField(default=False)
    amr = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)
