"""API keys: creation, listing, revocation, and authenticating a request that carries one.

A key is `tsk_<prefix>_<secret>`: an 8-character lookup prefix (lower-case letters and digits)
and a 256-bit random secret (43 base64url characters). It is shown once, in the answer that
creates it; the database keeps the prefix and the SHA-256 of the whole key. A fast hash is right
here (unlike passwords): the secret is random, not chosen, so 2^256 guesses stand between a
leaked hash and the key, and a slow hash would cost every API request its price.

A key is bound to one membership. Its `scopes` (`resource:action`, `resource:*`, `*:*`) must be
held by whoever creates it (and, for a service account's key, by the service account too) —
422 `scopes_not_held` names each one that is not. At request time the effective permission is
the intersection of the scopes and the membership's live policy (tessera.access.guard), so a role
taken from the owner narrows the key on the very next request.

Authentication (`api_key_authenticate`) costs one round trip, the one every credential pays:
`access_state` (Redis MGET or one indexed query) says whether the membership and tenant are
active and gives their policy versions. The key row itself is cached in process by prefix, with
the versions it was read at; revoking a key (one, or all of a member's or a tenant's) bumps the
membership or tenant version in the same transaction, so a process whose cached row is older
than the versions it is shown reads the row again. Unknown, malformed, revoked, expired keys, keys
used from outside their `allowed_ips`, and keys of inactive memberships: one 401 body.

Usage (`last_used_at`, `last_used_ip`, `use_count`) is counted in process and written in one
UPDATE per key at most every `API_KEY_USAGE_FLUSH_SECONDS` (default 30), by the request that
finds a flush due (and by the listing), never per request. Each process adds its own counts
(`use_count + n`), so several processes need no coordination; one that dies loses at most its
last interval of counts.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import secrets
import string
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from tessera.audit.models import AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.authn.models import ApiKey
from tessera.authn.state import access_state
from tessera.errors import NotAuthenticated, ValidationFailed, field_error
from tessera.realtime.notify import notify_api_key_revoked
from tessera.tenancy.models import Membership, Tenant

logger = logging.getLogger("tessera.authn")

KEY_PREFIX = "tsk_"
PREFIX_LENGTH = 8
PREFIX_ALPHABET = string.ascii_lowercase + string.digits
SECRET_BYTES = 32  # 256 bits
MAX_KEY_LENGTH = 128
MAX_NAME_LENGTH = 100
MAX_SCOPES = 100
MAX_ALLOWED_IPS = 100
CACHE_SIZE = 10_000
DEFAULT_FLUSH_SECONDS = 30
INVALID_DETAIL = "The API key is not valid."
_SECRET_CHARS = frozenset(string.ascii_letters + string.digits + "-_")


class ApiKeyInvalid(NotAuthenticated):
    """Unknown, malformed, revoked, expired, wrong IP, inactive member: one answer."""

    code = "invalid_api_key"


class ScopesNotHeld(ValidationFailed):
    code = "scopes_not_held"


@dataclass(frozen=True, slots=True)
class CreatedKey:
    """A new key and its full text (`raw`), which is never available again."""

    key: ApiKey
    raw: str


@dataclass(frozen=True, slots=True)
class ApiKeyMatch:
    """What an authenticated API key tells the request."""

    key_id: uuid.UUID
    tenant_id: Any
    membership_id: Any
    user_id: Any
    scopes: frozenset[str]
    tenant_version: int
    membership_version: int


# --- the key's text -----------------------------------------------------------------------------


def key_prefix_of(raw: str | None) -> str | None:
    """The lookup prefix of a well-formed key; None for anything else."""
    if not isinstance(raw, str) or not raw.startswith(KEY_PREFIX) or len(raw) > MAX_KEY_LENGTH:
        return None
    prefix = raw[4 : 4 + PREFIX_LENGTH]
    secret = raw[5 + PREFIX_LENGTH :]
    if (
        len(prefix) != PREFIX_LENGTH
        or raw[4 + PREFIX_LENGTH : 5 + PREFIX_LENGTH] != "_"
        or len(secret) < 32
        or any(ch not in PREFIX_ALPHABET for ch in prefix)
        or not _SECRET_CHARS.issuperset(secret)
    ):
        return None
    return prefix


def key_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _new_prefix() -> str:
    return "".join(secrets.choice(PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))


def _new_key(prefix: str) -> str:
    return f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"


# --- validation ---------------------------------------------------------------------------------


def scopes_validate(scopes: Any) -> list[str]:
    """A non-empty list of permissions or patterns, deduplicated in order; 422 otherwise."""
    from tessera.access.services import permission_validate

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
    from tessera.access.escalation import held_rules
    from tessera.engine import scopes_not_held

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
    from tessera.access.escalation import ensure_target_within

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
    from tessera.tenancy.services import membership_version_bump

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
            notify_api_key_revoked(api_key_id=key.pk)  # its open sockets close after commit
    return bool(revoked)


def api_keys_revoke_for(*, tenant_id, membership_id=None, now: datetime, reason: str) -> int:
    """Mark every live key of the member (or of the whole tenant) revoked; no version bump or
    audit here: tessera.authn.revocation does both for every kind of credential at once."""
    keys = ApiKey.objects.filter(tenant_id=tenant_id, revoked_at__isnull=True)
    if membership_id is not None:
        keys = keys.filter(membership_id=membership_id)
    return keys.update(revoked_at=now, revoked_reason=reason[:64])


# --- reads --------------------------------------------------------------------------------------


def api_key_get(*, tenant: Tenant, key_id) -> ApiKey | None:
    """A live (not revoked) key of the tenant; None for another tenant's or an unknown id."""
    try:
        uuid.UUID(str(key_id))
    except ValueError:
        return None
    return ApiKey.objects.filter(pk=key_id, tenant_id=tenant.pk, revoked_at__isnull=True).first()


def api_key_list(
    *,
    tenant: Tenant,
    membership_ids: Iterable | None,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None = None,
) -> list[ApiKey]:
    """Live keys of the tenant (of these memberships only, unless None), newest first."""
    usage_flush()
    query = ApiKey.objects.filter(tenant_id=tenant.pk, revoked_at__isnull=True).select_related(
        "membership__user"
    )
    if membership_ids is not None:
        query = query.filter(membership_id__in=list(membership_ids))
    if after is not None:
        created_at, last_id = after
        query = query.filter(
            Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=last_id)
        )
    return list(query.order_by("-created_at", "-id")[:limit])


# --- authenticating a request -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Entry:
    key_id: uuid.UUID
    digest: str
    tenant_id: Any
    membership_id: Any
    user_id: Any
    scopes: frozenset[str]
    networks: tuple
    expires_at: float | None
    revoked: bool
    versions: tuple[int, int]


class _KeyCache:
    """Key rows by prefix, bounded (oldest out first); reads take no lock."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._data: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, prefix: str) -> _Entry | None:
        return self._data.get(prefix)

    def put(self, prefix: str, entry: _Entry) -> None:
        with self._lock:
            self._data[prefix] = entry
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def drop(self, prefix: str) -> None:
        with self._lock:
            self._data.pop(prefix, None)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


_cache = _KeyCache(CACHE_SIZE)

_ROW = (
    "id",
    "key_hash",
    "tenant_id",
    "membership_id",
    "membership__user_id",
    "scopes",
    "allowed_ips",
    "expires_at",
    "revoked_at",
    "tenant__policy_version",
    "membership__version",
)


def _may_cache() -> bool:
    """Not inside a transaction whose writes could still roll back (the test runner's wrapping
    transactions stand in for autocommit and do not count)."""
    if not connection.in_atomic_block:
        return True
    return all(getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


def _load(prefix: str) -> _Entry | None:
    row = ApiKey.objects.filter(prefix=prefix).values_list(*_ROW).first()
    if row is None:
        return None
    key_id, digest, tid, mid, uid, scopes, ips, expires_at, revoked_at, tver, mver = row
    entry = _Entry(
        key_id=key_id,
        digest=digest,
        tenant_id=tid,
        membership_id=mid,
        user_id=uid,
        scopes=frozenset(str(s) for s in scopes or ()),
        networks=tuple(ipaddress.ip_network(n, strict=False) for n in ips or ()),
        expires_at=expires_at.timestamp() if expires_at else None,
        revoked=revoked_at is not None,
        versions=(int(tver or 0), int(mver or 0)),
    )
    if _may_cache():
        _cache.put(prefix, entry)
    return entry


def _ip_allowed(ip: str | None, networks: tuple) -> bool:
    if not ip:
        return False
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


def api_key_authenticate(raw: str, *, ip: str | None, now: datetime) -> ApiKeyMatch:
    """The key's owner, scopes and policy versions; ApiKeyInvalid (401) for any bad key."""
    prefix = key_prefix_of(raw)
    if prefix is None:
        raise ApiKeyInvalid(INVALID_DETAIL)
    digest = key_digest(raw)
    entry = _cache.get(prefix) or _load(prefix)
    if entry is None or not hmac.compare_digest(entry.digest, digest):
        raise ApiKeyInvalid(INVALID_DETAIL)
    state = access_state(
        session_id=None, tenant_id=entry.tenant_id, membership_id=entry.membership_id, now=now
    )
    if (state.tenant_version, state.membership_version) != entry.versions:
        entry = _load(prefix)  # something changed since the row was read: read it again
        if entry is None or not hmac.compare_digest(entry.digest, digest):
            raise ApiKeyInvalid(INVALID_DETAIL)
    if (
        entry.revoked
        or not state.membership_ok
        or (entry.expires_at is not None and now.timestamp() >= entry.expires_at)
        or (entry.networks and not _ip_allowed(ip, entry.networks))
    ):
        raise ApiKeyInvalid(INVALID_DETAIL)
    _usage.record(entry.key_id, now, ip)
    return ApiKeyMatch(
        key_id=entry.key_id,
        tenant_id=entry.tenant_id,
        membership_id=entry.membership_id,
        user_id=entry.user_id,
        scopes=entry.scopes,
        tenant_version=state.tenant_version,
        membership_version=state.membership_version,
    )


# --- usage, in batches --------------------------------------------------------------------------


def _flush_seconds() -> float:
    return float(getattr(settings, "API_KEY_USAGE_FLUSH_SECONDS", DEFAULT_FLUSH_SECONDS))


class _Usage:
    """Uses per key since the last flush: (count, last time, last IP)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[uuid.UUID, list] = {}
        self._last_flush = time.monotonic()

    def record(self, key_id: uuid.UUID, at: datetime, ip: str | None) -> None:
        with self._lock:
            entry = self._pending.get(key_id)
            if entry is None:
                self._pending[key_id] = [1, at, ip]
            else:
                entry[0] += 1
                entry[1] = at
                entry[2] = ip
            due = time.monotonic() - self._last_flush >= _flush_seconds()
        if due:
            self.flush()

    def flush(self) -> int:
        with self._lock:
            pending, self._pending = self._pending, {}
            self._last_flush = time.monotonic()
        for key_id, (count, at, ip) in pending.items():
            try:
                ApiKey.objects.filter(pk=key_id).update(
                    use_count=F("use_count") + count, last_used_at=at, last_used_ip=ip
                )
            except DatabaseError:  # usage is bookkeeping: never fail a request over it
                logger.warning("could not record the usage of API key %s", key_id, exc_info=True)
        return len(pending)

    def clear(self) -> None:
        with self._lock:
            self._pending = {}
            self._last_flush = time.monotonic()


_usage = _Usage()


def usage_flush() -> int:
    """Write this process's pending usage counts now; how many keys were written."""
    return _usage.flush()


def api_keys_clear_process_state() -> None:
    """Forget cached key rows and unflushed usage (tests, benchmarks)."""
    _cache.clear()
    _usage.clear()
