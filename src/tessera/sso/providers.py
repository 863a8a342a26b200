"""Writes of identity providers: register, change, remove — validated, secret sealed, audited.

The body is the API's (`kind, name, issuer | discovery_url, client_id, client_secret, scopes,
jit, enabled, claim_mapping, group_claim, group_prefix, default_roles, group_mapping,
return_origins, allowed_tenants, hosted_domain, authorization_endpoint, token_endpoint,
jwks_uri`). Each kind's preset fills what is not given (tessera.sso.presets). `group_mapping`
is the tenant's one mapping (tessera.directory), shared with SCIM: writing it here replaces it.
The escalation rule: a provider hands out `default_roles` and mapped roles at every sign-in, so
whoever configures it must hold them (403 `not_held`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction

from tessera.access.escalation import ensure_actor_holds
from tessera.access.models import Role
from tessera.access.selectors import role_effective_rules
from tessera.audit.models import AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.crypto import seal, unseal
from tessera.directory.groups import group_mapping_set, group_mapping_state
from tessera.errors import field_error
from tessera.sso.claims import claim_mapping_validate
from tessera.sso.errors import ProviderInvalid
from tessera.sso.metadata import url_allowed
from tessera.sso.models import IdentityProvider, ProviderKind
from tessera.sso.presets import ENTRA_ISSUER, ENTRA_MULTI_TENANT_ISSUER, GOOGLE_ISSUER, PRESETS
from tessera.tenancy.models import Membership, Tenant

SECRET_PURPOSE = b"tessera-sso-client-secret"
_SCOPE = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]{1,100}")
_ENTRA_DIRECTORY = re.compile(r"[0-9a-fA-F-]{36}|[a-z0-9.-]{3,100}")
URL_FIELDS = ("discovery_url", "authorization_endpoint", "token_endpoint", "jwks_uri")
PLAIN_FIELDS = ("name", "client_id", "group_claim", "group_prefix", "hosted_domain", "issuer")
_LIMITS = {
    "name": 120,
    "client_id": 255,
    "group_claim": 120,
    "group_prefix": 120,
    "hosted_domain": 253,
    "issuer": 500,
}


def _invalid(where: str, message: str) -> ProviderInvalid:
    return ProviderInvalid(message, errors=[field_error(where, message, "invalid")])


def client_secret_seal(provider: IdentityProvider, secret: str) -> str:
    return seal(secret.encode(), purpose=SECRET_PURPOSE, context=str(provider.pk).encode())


def client_secret_of(provider: IdentityProvider) -> str:
    if not provider.client_secret_sealed:
        return ""
    return unseal(
        provider.client_secret_sealed, purpose=SECRET_PURPOSE, context=str(provider.pk).encode()
    ).decode()


def _origin(value: Any, where: str) -> str:
    if not isinstance(value, str) or len(value) > 300:
        raise _invalid(where, "An origin such as https://app.example.com.")
    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018  (raises ValueError for a bad port)
    except ValueError:
        raise _invalid(where, "An origin such as https://app.example.com.") from None
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.path not in ("", "/"):
        raise _invalid(where, "An origin such as https://app.example.com (no path).")
    if parts.query or parts.fragment or parts.username:
        raise _invalid(where, "An origin has no query, fragment or user.")
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _strings(value: Any, where: str, *, limit: int = 50, item_max: int = 255) -> list[str]:
    if not isinstance(value, list | tuple) or len(value) > limit:
        raise _invalid(where, f"A list of at most {limit} strings.")
    if not all(isinstance(v, str) and 0 < len(v) <= item_max for v in value):
        raise _invalid(where, f"Each item a string of 1–{item_max} characters.")
    return list(dict.fromkeys(value))


def _issuer_for(kind: str, data: Mapping[str, Any]) -> str:
    issuer = data.get("issuer")
    if kind == ProviderKind.GOOGLE:
        return GOOGLE_ISSUER
    if kind == ProviderKind.ENTRA and not issuer:
        directory = data.get("entra_tenant_id")
        if not isinstance(directory, str) or not _ENTRA_DIRECTORY.fullmatch(directory):
            raise _invalid("issuer", "Entra ID: give `issuer` or `entra_tenant_id`.")
        if directory in ("common", "organizations"):
            return ENTRA_MULTI_TENANT_ISSUER
        return ENTRA_ISSUER.format(tenant=directory)
    if not issuer and isinstance(data.get("discovery_url"), str):
        return data["discovery_url"].split("/.well-known/")[0]
    return issuer or ""


def _clean(kind: str, data: Mapping[str, Any], *, tenant: Tenant, creating: bool) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for name in PLAIN_FIELDS:
        if name in data and data[name] is not None:
            value = data[name]
            if not isinstance(value, str) or len(value.strip()) > _LIMITS[name]:
                raise _invalid(name, f"A string of at most {_LIMITS[name]} characters.")
            clean[name] = value.strip()
    if creating or "issuer" in data or "entra_tenant_id" in data or "discovery_url" in data:
        clean["issuer"] = _issuer_for(kind, data)
        issuer = clean["issuer"].replace("{tid}", "tid")
        if not url_allowed(issuer):
            raise _invalid("issuer", "An https URL (the provider's issuer).")
    for name in URL_FIELDS:
        if name in data and data[name] not in (None, ""):
            if not isinstance(data[name], str) or len(data[name]) > 500:
                raise _invalid(name, "An https URL.")
            if not url_allowed(data[name]):
                raise _invalid(name, "An https URL.")
            clean[name] = data[name]
        elif name in data:
            clean[name] = ""
    if "scopes" in data and data["scopes"] is not None:
        scopes = _strings(data["scopes"], "scopes", limit=30, item_max=100)
        if not all(_SCOPE.fullmatch(s) for s in scopes):
            raise _invalid("scopes", "Scope tokens without spaces or quotes.")
        clean["scopes"] = scopes if "openid" in scopes else ["openid", *scopes]
    for name in ("jit", "enabled"):
        if name in data and data[name] is not None:
            if not isinstance(data[name], bool):
                raise _invalid(name, "true or false.")
            clean[name] = data[name]
    if "claim_mapping" in data:
        clean["claim_mapping"] = claim_mapping_validate(data["claim_mapping"])
    if "return_origins" in data and data["return_origins"] is not None:
        raw = _strings(data["return_origins"], "return_origins", item_max=300)
        clean["return_origins"] = [_origin(v, f"return_origins[{i}]") for i, v in enumerate(raw)]
    if "allowed_tenants" in data and data["allowed_tenants"] is not None:
        clean["allowed_tenants"] = _strings(data["allowed_tenants"], "allowed_tenants")
    if "default_roles" in data and data["default_roles"] is not None:
        slugs = _strings(data["default_roles"], "default_roles", item_max=64)
        known = set(
            Role.objects.filter(tenant=tenant, slug__in=slugs).values_list("slug", flat=True)
        )
        unknown = [s for s in slugs if s not in known]
        if unknown:
            raise _invalid("default_roles", f"Unknown role(s): {', '.join(unknown)}.")
        clean["default_roles"] = slugs
    if "client_secret" in data and data["client_secret"] is not None:
        secret = data["client_secret"]
        if not isinstance(secret, str) or len(secret) > 2000:
            raise _invalid("client_secret", "A string of at most 2000 characters.")
        clean["client_secret"] = secret
    return clean


def _state(provider: IdentityProvider) -> dict[str, Any]:
    """What the audit trail records of a provider (never the secret)."""
    return {
        "kind": provider.kind,
        "name": provider.name,
        "issuer": provider.issuer,
        "discovery_url": provider.discovery_url,
        "client_id": provider.client_id,
        "client_secret_set": bool(provider.client_secret_sealed),
        "scopes": provider.scopes,
        "jit": provider.jit,
        "enabled": provider.enabled,
        "claim_mapping": provider.claim_mapping,
        "group_claim": provider.group_claim,
        "group_prefix": provider.group_prefix,
        "default_roles": provider.default_roles,
        "return_origins": provider.return_origins,
        "allowed_tenants": provider.allowed_tenants,
        "hosted_domain": provider.hosted_domain,
    }


def _check_roles(by: Membership | None, tenant: Tenant, slugs: list[str]) -> None:
    if by is None:
        return
    for role in Role.objects.filter(tenant=tenant, slug__in=slugs):
        ensure_actor_holds(by, role_effective_rules(role))


def provider_create(
    *,
    tenant: Tenant,
    data: Mapping[str, Any],
    by: Membership | None = None,
    actor: Actor | None = None,
) -> IdentityProvider:
    """Register a provider (422 naming the bad field; 403 `not_held` for roles beyond `by`)."""
    kind = data.get("kind") or ProviderKind.OIDC
    if kind not in ProviderKind.values:
        raise _invalid("kind", f"One of {', '.join(ProviderKind.values)}.")
    clean = _clean(kind, data, tenant=tenant, creating=True)
    for required in ("name", "client_id"):
        if not clean.get(required):
            raise _invalid(required, "Required.")
    if not clean.get("issuer"):
        raise _invalid("issuer", "Give `issuer` or `discovery_url`.")
    preset = PRESETS[kind]
    clean.setdefault("scopes", list(preset.scopes))
    clean.setdefault("group_claim", preset.group_claim)
    clean.setdefault("claim_mapping", dict(preset.claim_mapping))
    _check_roles(by, tenant, clean.get("default_roles", []))
    secret = clean.pop("client_secret", "")
    with transaction.atomic():
        provider = IdentityProvider(tenant=tenant, kind=kind, **clean)
        if secret:
            provider.client_secret_sealed = client_secret_seal(provider, secret)
        provider.save(force_insert=True)
        if data.get("group_mapping") is not None:
            group_mapping_set(tenant=tenant, mapping=data["group_mapping"], by=by, actor=actor)
        audit_record(
            type=AuditEventType.IDP_CREATED,
            actor=actor,
            tenant_id=tenant.pk,
            resource_type="identity_provider",
            resource_id=provider.pk,
            changes=_state(provider),
        )
    return provider


def provider_update(
    *,
    provider: IdentityProvider,
    data: Mapping[str, Any],
    by: Membership | None = None,
    actor: Actor | None = None,
) -> IdentityProvider:
    """Change a provider; only the fields given change. A new `client_secret` replaces the
    sealed one. Changing endpoints or the issuer drops the cached discovery and keys."""
    if "kind" in data and data["kind"] not in (None, provider.kind):
        raise _invalid("kind", "The kind of a provider cannot change; register a new one.")
    clean = _clean(provider.kind, data, tenant=provider.tenant, creating=False)
    if "name" in clean and not clean["name"]:
        raise _invalid("name", "Required.")
    if "client_id" in clean and not clean["client_id"]:
        raise _invalid("client_id", "Required.")
    _check_roles(by, provider.tenant, clean.get("default_roles", []))
    secret = clean.pop("client_secret", None)
    with transaction.atomic():
        before = _state(provider)
        for name, value in clean.items():
            setattr(provider, name, value)
        if secret is not None:
            provider.client_secret_sealed = client_secret_seal(provider, secret) if secret else ""
        if {"issuer", *URL_FIELDS} & set(clean):
            provider.metadata, provider.metadata_fetched_at = {}, None
            provider.jwks, provider.jwks_fetched_at = {}, None
        provider.save()
        if data.get("group_mapping") is not None:
            group_mapping_set(
                tenant=provider.tenant, mapping=data["group_mapping"], by=by, actor=actor
            )
        after = _state(provider)
        if before != after:
            changes = {
                k: {"before": before[k], "after": after[k]} for k in after if before[k] != after[k]
            }
            audit_record(
                type=AuditEventType.IDP_UPDATED,
                actor=actor,
                tenant_id=provider.tenant_id,
                resource_type="identity_provider",
                resource_id=provider.pk,
                changes=changes,
            )
    return provider


def provider_delete(*, provider: IdentityProvider, actor: Actor | None = None) -> None:
    """Remove a provider; its members keep their memberships and roles (links stay, unbound)."""
    with transaction.atomic():
        state = _state(provider)
        provider_id = provider.pk
        provider.delete()
        audit_record(
            type=AuditEventType.IDP_DELETED,
            actor=actor,
            tenant_id=provider.tenant_id,
            resource_type="identity_provider",
            resource_id=provider_id,
            changes=state,
        )


def provider_state(provider: IdentityProvider) -> dict[str, Any]:
    """The API form of a provider (no secret: only whether one is set)."""
    return {
        "id": str(provider.pk),
        **_state(provider),
        "authorization_endpoint": provider.authorization_endpoint,
        "token_endpoint": provider.token_endpoint,
        "jwks_uri": provider.jwks_uri,
        "group_mapping": group_mapping_state(tenant=provider.tenant),
        "created_at": provider.created_at,
        "updated_at": provider.updated_at,
    }
