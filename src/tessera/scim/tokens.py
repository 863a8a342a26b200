"""SCIM credentials: created (the raw token shown once), listed, revoked and authenticated.

A token is `tscim_<8-char prefix>_<43 url-safe chars>` (256 bits); only its SHA-256 is stored.
It is the tenant's, not a person's: it acts on every member, administrators included, so only a
member holding full authority in the tenant (`*:*`, the escalation rule) may create one.
"""

from __future__ import annotations

import hashlib
import secrets
import string
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import QuerySet
from django.utils import timezone

from tessera.access.escalation import ensure_actor_holds
from tessera.access.prepared import PreparedQuery
from tessera.audit.models import ActorType, AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.errors import ValidationFailed, field_error
from tessera.scim.errors import ScimUnauthorized
from tessera.scim.models import ScimToken
from tessera.tenancy.models import Membership, Tenant

TOKEN_PREFIX = "tscim_"
PREFIX_LENGTH = 8
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
MAX_TOKEN_LENGTH = 100
LAST_USED_WRITE_INTERVAL = timedelta(seconds=60)
# what a SCIM credential does: creating one needs all of it (it acts on administrators too)
SCIM_AUTHORITY = ("*:*",)


@dataclass(frozen=True, slots=True)
class CreatedScimToken:
    token: ScimToken
    raw: str


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _name_validate(name: object) -> str:
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 100:
        raise ValidationFailed(
            "Invalid name", errors=[field_error("name", "1 to 100 characters.", "invalid")]
        )
    return name.strip()


def scim_token_create(
    *, tenant: Tenant, name: str, by: Membership | None, actor: Actor | None = None
) -> CreatedScimToken:
    """A new SCIM credential of `tenant`; the raw token is returned once and never stored."""
    clean = _name_validate(name)
    if by is not None:
        ensure_actor_holds(by, SCIM_AUTHORITY)
    prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))
    raw = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        token = ScimToken.objects.create(
            tenant=tenant,
            name=clean,
            prefix=prefix,
            token_hash=token_digest(raw),
            created_by=by,
            created_at=timezone.now(),
        )
        audit_record(
            type=AuditEventType.SCIM_TOKEN_CREATED,
            actor=actor,
            tenant_id=tenant.pk,
            resource_type="scim_token",
            resource_id=token.pk,
            changes={"name": clean, "prefix": prefix},
        )
    return CreatedScimToken(token=token, raw=raw)


def scim_token_revoke(*, token: ScimToken, actor: Actor | None = None) -> bool:
    """Revoke the credential (its next request answers 401); False when it already was."""
    with transaction.atomic():
        revoked = ScimToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if not revoked:
            return False
        token.refresh_from_db(fields=["revoked_at"])
        audit_record(
            type=AuditEventType.SCIM_TOKEN_REVOKED,
            actor=actor,
            tenant_id=token.tenant_id,
            resource_type="scim_token",
            resource_id=token.pk,
            changes={"name": token.name, "prefix": token.prefix},
        )
    return True


def scim_tokens_of(*, tenant: Tenant) -> QuerySet[ScimToken]:
    return ScimToken.objects.filter(tenant=tenant).order_by("-created_at", "-id")


def scim_token_get(*, tenant: Tenant, token_id) -> ScimToken | None:
    try:
        uuid.UUID(str(token_id))
    except ValueError:
        return None
    return ScimToken.objects.filter(tenant=tenant, pk=token_id).first()


_TOKEN_COLUMNS = tuple(field.attname for field in ScimToken._meta.concrete_fields)
_TENANT_COLUMNS = tuple(field.attname for field in Tenant._meta.concrete_fields)
# every request of a directory reads its credential: one prepared query (tessera.access.prepared)
# for the live token and its tenant, read afresh each time so a revocation holds at once
_LIVE_TOKEN = PreparedQuery(
    lambda digest: (
        ScimToken.objects.filter(token_hash=digest, revoked_at__isnull=True)
        .values_list(*_TOKEN_COLUMNS, *(f"tenant__{column}" for column in _TENANT_COLUMNS))
        .order_by()[:1]
    ),
    placeholders=("\x00scim-token-digest",),
)


def scim_token_authenticate(raw: str, *, now: datetime) -> ScimToken:
    """The live credential `raw` names (its tenant active); ScimUnauthorized for anything else."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > MAX_TOKEN_LENGTH:
        raise ScimUnauthorized("Use Authorization: Bearer <the tenant's SCIM token>")
    row = _LIVE_TOKEN.one(token_digest(raw))
    if row is None:
        raise ScimUnauthorized("The SCIM token is unknown or revoked")
    token = ScimToken.from_db(DEFAULT_DB_ALIAS, _TOKEN_COLUMNS, row[: len(_TOKEN_COLUMNS)])
    token.tenant = Tenant.from_db(DEFAULT_DB_ALIAS, _TENANT_COLUMNS, row[len(_TOKEN_COLUMNS) :])
    if not token.tenant.is_active:
        raise ScimUnauthorized("The SCIM token is unknown or revoked")
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_WRITE_INTERVAL:
        ScimToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def scim_actor(token: ScimToken, *, ip: str | None, user_agent: str, request_id: str) -> Actor:
    """The credential as the audit actor of what it changes (its id in `actor_api_key_id`)."""
    return Actor(
        type=ActorType.SCIM,
        api_key_id=token.pk,
        ip=ip,
        user_agent=user_agent[:512],
        request_id=request_id,
    )
