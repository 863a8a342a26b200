"""API keys: the key's text, validation, creation and revocation.

A key is `tsk_<prefix>_<secret>`: an 8-character lookup prefix (lower-case letters and digits)
and a 256-bit random secret (43 base64url characters). It is shown once, in the answer that
creates it; the database keeps the prefix and the SHA-256 of the whole key. A fast hash is right
here (unlike passwords): the secret is random, not chosen, so 2^256 guesses stand between a
leaked hash and the key, and a slow hash would cost every API request its price.

A key is bound to one membership. Its `scopes` (`resource:action`, `resource:*`, `*:*`) must be
held by whoever creates it (and, for a service account's key, by the service account too) —
422 `scopes_not_held` names each one that is not. At request time the effective permission is
the intersection of the scopes and the membership's live policy (tessera.access.bridge.guard), so
a role taken from the owner narrows the key on the very next request.

Authenticating a request that carries a key, and counting its use: `tessera.authn.api_key_auth`.
Reads (`api_key_get`, `api_key_list`): `tessera.authn.selectors`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from tessera import notifications
from tessera.access.escalation import ensure_target_within, held_rules
from tessera.access.services.validation import permission_validate
from tessera.audit.models import AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.authn.api_key_auth import _cache
from tessera.authn.api_key_text import (
    MAX_ALLOWED_IPS,
    MAX_NAME_LENGTH,
    MAX_SCOPES,
    CreatedKey,
    ScopesNotHeld,
    _new_key,
    _new_prefix,
    key_digest,
)
from tessera.authn.models import ApiKey
from tessera.engine import scopes_not_held
from tessera.errors import ValidationFailed, field_error
from tessera.tenancy.models import Membership
from tessera.tenancy.services import membership_version_bump

# --- validation ---------------------------------------------------------------------------------


def scopes_validate(scopes: Any) -> list[str]:
    """A non-empty list of permissions or patterns, deduplicated in order; 422 otherwise."""

    if not isinstance(scopes, list | tuple) or not scopes:
        raise ValidationFailed(
            "Invalid scopes",
            errors=[field_error("scopes", "A non-empty list of 'resource:action' scopes.")],
        )
    if len(scopes) > MAX_SCOPES:
        raise ValidationFailed(
            "Too many scopes", errors=[field_error("scopes", f"At most {MAX_SCOPES}.", "too_long")]
        )
    for i, scope in enumerate(scopes):
        permission_validate(scope, where=f"scopes[{i}]")
    return list(dict.fromkeys(scopes))


def scopes_lacking(
    membership: Membership, scopes: Sequence[str], *, now: datetime | None = None
) -> list[str]:
    """The scopes the member does not hold now (`tessera.engine.scopes_not_held`).

    Held: an allow rule in force (any rule scope or condition: those still apply per request)
    whose permission covers the scope, and no unconditional deny of scope `all` overlapping it.
    Object-level grants do not count (a key cannot be limited to one object).
    """

    now = now or timezone.now()
    return scopes_not_held(held_rules(membership, now=now), scopes)


def allowed_ips_validate(values: Any) -> list[str]:
    """CIDR networks (a bare address is a /32 or /128), normalised; 422 naming a malformed one."""
    if values is None:
        return []
    if not isinstance(values, list | tuple):
        raise ValidationFailed(
            "Invalid allowed_ips",
            errors=[field_error("allowed_ips", "A list of CIDR networks.")],
        )
    if len(values) > MAX_ALLOWED_IPS:
        raise ValidationFailed(
            "Too many networks",
            errors=[field_error("allowed_ips", f"At most {MAX_ALLOWED_IPS}.", "too_long")],
        )
    networks = []
    errors = []
    for i, value in enumerate(values):
        try:
            if not isinstance(value, str) or len(value) > 64:
                raise ValueError
            networks.append(str(ipaddress.ip_network(value.strip(), strict=False)))
        except ValueError:
            errors.append(
                field_error(
                    f"allowed_ips[{i}]",
                    f"Not a CIDR network or IP address: {str(value)[:64]!r}.",
                    "invalid_cidr",
                )
            )
    if errors:
        raise ValidationFailed("Invalid allowed_ips", errors=errors)
    return list(dict.fromkeys(networks))


def _name_validate(name: Any) -> str:
    cleaned = name.strip() if isinstance(name, str) else ""
    if not cleaned or len(cleaned) > MAX_NAME_LENGTH:
        raise ValidationFailed(
            "Invalid name",
            errors=[field_error("name", f"Between 1 and {MAX_NAME_LENGTH} characters.")],
        )
    return cleaned


def _expiry_validate(expires_at: datetime | None, now: datetime) -> datetime | None:
    if expires_at is None:
        return None
    if timezone.is_naive(expires_at):
        expires_at = expires_at.replace(tzinfo=UTC)
    if expires_at <= now:
        raise ValidationFailed(
            "Invalid expiry", errors=[field_error("expires_at", "Must be in the future.")]
        )
    return expires_at


# --- writes -------------------------------------------------------------------------------------


def api_key_create(
    *,
    owner: Membership,
    by: Membership,
    name: str,
    scopes: Any,
    allowed_ips: Any = None,
    expires_at: datetime | None = None,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> CreatedKey:
    """A new key of `owner`, created by `by` (the same member, or an administrator creating a
    service account's key). 422 for bad input, `scopes_not_held` naming each missing scope; a
    service account holding more than `by` answers 403 `target_outranks_you` (the key would act
    with the account's permissions)."""

    now = now or timezone.now()
    ensure_target_within(by, owner, now=now)
    name = _name_validate(name)
    scopes = scopes_validate(scopes)
    networks = allowed_ips_validate(allowed_ips)
    expires_at = _expiry_validate(expires_at, now)
    lacking = {"You do not hold": scopes_lacking(by, scopes, now=now)}
    if owner.pk != by.pk:
        lacking["The service account does not hold"] = scopes_lacking(owner, scopes, now=now)
    errors = [
        field_error(f"scopes[{scopes.index(scope)}]", f"{whose} {scope}.", "not_held")
        for whose, missing in lacking.items()
        for scope in missing
    ]
    if errors:
        missing = sorted({scope for found in lacking.values() for scope in found})
        raise ScopesNotHeld(f"Scopes not held: {', '.join(missing)}", errors=errors)
    with transaction.atomic():
        for _ in range(5):
            prefix = _new_prefix()
            raw = _new_key(prefix)
            try:
                with transaction.atomic():
                    key = ApiKey.objects.create(
                        tenant_id=owner.tenant_id,
                        membership=owner,
                        created_by=by,
                        name=name,
                        prefix=prefix,
                        key_hash=key_digest(raw),
                        scopes=scopes,
                        allowed_ips=networks,
                        expires_at=expires_at,
                        created_at=now,
                    )
                break
            except IntegrityError:  # a prefix collision (one in 2.8e12): draw another
                continue
        else:  # pragma: no cover - five collisions in a row
            raise RuntimeError("could not draw a free API key prefix")
        audit_record(
            type=AuditEventType.API_KEY_CREATED,
            actor=actor,
            tenant_id=owner.tenant_id,
            resource_type="api_key",
            resource_id=key.pk,
            changes={
                "name": name,
                "prefix": prefix,
                "owner_user_id": str(owner.user_id),
                "scopes": scopes,
                "allowed_ips": networks,
                "expires_at": expires_at.isoformat() if expires_at else None,
            },
        )
    return CreatedKey(key=key, raw=raw)


def api_key_revoke(*, key: ApiKey, actor: Actor | None = None, reason: str = "revoked") -> bool:
    """Revoke one key at once (every process stops accepting it on its next request)."""

    now = timezone.now()
    with transaction.atomic():
        revoked = ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
            revoked_at=now, revoked_reason=reason[:64]
        )
        if revoked:
            membership_version_bump(membership_id=key.membership_id)
            audit_record(
                type=AuditEventType.API_KEY_REVOKED,
                actor=actor,
                tenant_id=key.tenant_id,
                resource_type="api_key",
                resource_id=key.pk,
                changes={"reason": reason, "prefix": key.prefix},
            )
            prefix = key.prefix
            transaction.on_commit(lambda: _cache.drop(prefix))
            notifications.api_key_revoked.publish(
                api_key_id=key.pk
            )  # its open sockets close after commit
    return bool(revoked)


def api_keys_revoke_for(*, tenant_id, membership_id=None, now: datetime, reason: str) -> int:
    """Mark every live key of the member (or of the whole tenant) revoked; no version bump or
    audit here: tessera.authn.revocation does both for every kind of credential at once."""
    keys = ApiKey.objects.filter(tenant_id=tenant_id, revoked_at__isnull=True)
    if membership_id is not None:
        keys = keys.filter(membership_id=membership_id)
    return keys.update(revoked_at=now, revoked_reason=reason[:64])
