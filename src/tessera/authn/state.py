"""Is this credential still good, and which policy versions are current? One round trip.

Every authenticated request asks `access_state`. With Redis configured it is one `MGET` over
three keys (session, tenant version, membership version), filled from the database on a miss
and rewritten after any commit that changes them. Without Redis it is one indexed database query,
so several server processes never disagree (an in-process cache could not be invalidated
across processes). That query is compiled once per connection (`_PreparedRow`): on this hot path
the ORM's per-call SQL compilation would cost several times the query itself. Likewise the Redis
read goes through one process-wide client (`_redis_get_many`; Django's cache builds a new client
object on every call) with the cache's own key function and serializer; writes and deletes go
through the Django cache.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.redis import RedisSerializer
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import QuerySet
from redis import Redis

from tessera.authn.models import Session
from tessera.tenancy.models import Membership, MembershipStatus, Tenant

STATE_TTL = 3600


@dataclass(frozen=True, slots=True)
class AccessState:
    session_ok: bool
    membership_ok: bool
    tenant_version: int
    membership_version: int
    mfa_verified_at: datetime | None = None
    risk_score: int = 0
    password_change_required: bool = False
    last_activity_at: datetime | None = None
    idle_seconds: int = 0
    mfa_setup_required: bool = False
    device_trusted: bool = False


DENIED = AccessState(False, False, 0, 0)

# The session tuple (read from the database, cached in Redis): its positions.
_S_FIELDS = (
    "revoked_at",
    "expires_at",
    "absolute_expires_at",
    "user__is_active",
    "mfa_verified_at",
    "risk_score",
    "password_change_required",
    "membership_id",
    "last_activity_at",
    "idle_seconds",
    "mfa_setup_required",
    "device_trusted",
)
_S_MEMBERSHIP = 7
_S_END = len(_S_FIELDS)  # the session-state row's membership and tenant columns start here


def _session_key(tenant_id, session_id) -> str:
    return f"sess:{tenant_id or '-'}:{session_id}"


def _tenant_key(tenant_id) -> str:
    return f"pv:t:{tenant_id}"


def _membership_key(tenant_id, membership_id) -> str:
    return f"pv:m:{tenant_id}:{membership_id}"


def _uses_redis() -> bool:
    return bool(settings.REDIS_URL)


_redis_lock = threading.Lock()
_redis_client: tuple[str, Redis] | None = None
_serializer = RedisSerializer()


def _redis_get_many(keys: list[str]) -> dict:
    """`cache.get_many` in one MGET, through a client kept for the process."""
    global _redis_client
    entry = _redis_client
    url = settings.REDIS_URL or ""  # asked only when a Redis URL is configured (_uses_redis)
    if entry is None or entry[0] != url:
        with _redis_lock:
            entry = (url, Redis.from_url(url))
            _redis_client = entry
    raw = entry[1].mget([cache.make_and_validate_key(key) for key in keys])
    return {
        key: _serializer.loads(value)
        for key, value in zip(keys, raw, strict=True)
        if isinstance(value, bytes)  # a missing key answers None
    }


class _PreparedRow:
    """A one-row read by primary key whose SQL is compiled once per database connection.

    `build(pk)` returns the queryset; its compiled SQL, parameter and converters are kept per
    thread for the connection it was compiled for, and each call only executes it.
    """

    _PLACEHOLDER = uuid.UUID(int=0)

    def __init__(self, model, build: Callable[[uuid.UUID], QuerySet]) -> None:
        self.model = model
        self.build = build
        self._local = threading.local()

    def _prepared(self, connection):
        entry = getattr(self._local, "entry", None)
        if entry is None or entry[0] is not connection:
            compiler = self.build(self._PLACEHOLDER).query.get_compiler(connection=connection)
            sql, params = compiler.as_sql()
            if len(params) != 1:
                raise RuntimeError("a prepared row read takes exactly one parameter")
            fields = [column[0] for column in compiler.select[: compiler.col_count]]
            entry = (connection, sql, compiler, compiler.get_converters(fields))
            self._local.entry = entry
        return entry

    def fetch(self, pk) -> tuple | None:
        try:
            key = pk if isinstance(pk, uuid.UUID) else uuid.UUID(str(pk))
        except ValueError:
            return None
        connection = connections[DEFAULT_DB_ALIAS]
        _, sql, compiler, converters = self._prepared(connection)
        param = self.model._meta.pk.get_db_prep_value(key, connection)
        with connection.cursor() as cursor:
            cursor.execute(sql, [param])
            row = cursor.fetchone()
        if row is None:
            return None
        if converters:
            row = next(iter(compiler.apply_converters([row], converters)))
        return tuple(row)


_SESSION_ROW = _PreparedRow(
    Session,
    lambda pk: Session.objects.filter(pk=pk).values_list(*_S_FIELDS).order_by()[:1],
)
_SESSION_STATE_ROW = _PreparedRow(
    Session,
    lambda pk: (
        Session.objects.filter(pk=pk)
        .values_list(
            *_S_FIELDS,
            "membership__status",
            "membership__version",
            "tenant__policy_version",
            "tenant__is_active",
            "tenant_id",
        )
        .order_by()[:1]
    ),
)

_MEMBERSHIP_STATE_ROW = _PreparedRow(
    Membership,
    lambda pk: (
        Membership.objects.filter(pk=pk)
        .values_list(
            "status",
            "version",
            "tenant__policy_version",
            "tenant__is_active",
            "user__is_active",
            "tenant_id",
        )
        .order_by()[:1]
    ),
)


def _session_row(session_id):
    return _SESSION_ROW.fetch(session_id)


def _session_ok(row, now: datetime, membership_id) -> bool:
    """Live, and bound to the membership the credential names (None for tenant-less sessions)."""
    revoked_at, expires_at, absolute_expires_at, user_active = row[:4]
    bound = row[_S_MEMBERSHIP]
    if (str(bound) if bound else None) != (str(membership_id) if membership_id else None):
        return False
    return revoked_at is None and user_active and now < expires_at and now < absolute_expires_at


def _session_extras(row) -> dict:
    return {
        "mfa_verified_at": row[4],
        "risk_score": row[5],
        "password_change_required": row[6],
        "last_activity_at": row[8],
        "idle_seconds": row[9],
        # tuples cached before these two columns existed are shorter
        "mfa_setup_required": bool(row[10]) if len(row) > 10 else False,
        "device_trusted": bool(row[11]) if len(row) > 11 else False,
    }


def access_state(*, session_id, tenant_id, membership_id, now: datetime) -> AccessState:
    """The live state behind a credential (session may be None for API keys)."""
    if _uses_redis():
        return _access_state_redis(session_id, tenant_id, membership_id, now)
    return _access_state_db(session_id, tenant_id, membership_id, now)


def _access_state_db(session_id, tenant_id, membership_id, now) -> AccessState:
    if session_id is not None:
        row = _SESSION_STATE_ROW.fetch(session_id)
        if row is None:
            return DENIED
        session_ok = _session_ok(row, now, membership_id)
        if membership_id is None:
            return AccessState(session_ok, False, 0, 0, **_session_extras(row))
        status, mver, tver, tenant_active, row_tenant = row[_S_END : _S_END + 5]
        if str(row_tenant) != str(tenant_id):
            return DENIED
        return AccessState(
            session_ok=session_ok,
            membership_ok=status == MembershipStatus.ACTIVE and bool(tenant_active),
            tenant_version=tver or 0,
            membership_version=mver or 0,
            **_session_extras(row),
        )
    row = _MEMBERSHIP_STATE_ROW.fetch(membership_id)  # a credential without a session: API key
    if row is None or str(row[5]) != str(tenant_id):
        return DENIED
    ok = row[0] == MembershipStatus.ACTIVE and bool(row[3]) and bool(row[4])
    return AccessState(True, ok, row[2], row[1])


def _load_session(session_id) -> tuple:
    row = _session_row(session_id)
    return tuple(row) if row is not None else ("missing",)


def _load_tenant(tenant_id) -> tuple:
    row = Tenant.objects.filter(pk=tenant_id).values_list("policy_version", "is_active").first()
    return (row[0], row[1]) if row else (0, False)


def _load_membership(tenant_id, membership_id) -> tuple:
    row = (
        Membership.objects.filter(pk=membership_id, tenant_id=tenant_id)
        .values_list("version", "status", "user__is_active")
        .first()
    )
    return (row[0], row[1] == MembershipStatus.ACTIVE and row[2]) if row else (0, False)


def _fill(missing: dict) -> None:
    """Cache what a reader loaded — only where no writer has put a fresher value (SET NX).

    A reader may have loaded its row before a concurrent change committed; the writer sets the
    post-commit value (see `_refresh_after_commit`), and NX keeps the reader from overwriting it.
    """
    for key, value in missing.items():
        cache.add(key, value, STATE_TTL)


def _access_state_redis(session_id, tenant_id, membership_id, now) -> AccessState:
    keys = []
    if session_id is not None:
        keys.append(_session_key(tenant_id, session_id))
    if membership_id is not None:
        keys += [_tenant_key(tenant_id), _membership_key(tenant_id, membership_id)]
    found = _redis_get_many(keys)
    missing = {}
    if session_id is not None:
        sess = found.get(keys[0])
        if sess is None:
            sess = missing[keys[0]] = _load_session(session_id)
        if sess == ("missing",):
            _fill(missing)
            return DENIED
        session_ok = _session_ok(sess, now, membership_id)
        extras = _session_extras(sess)
    else:
        session_ok, extras = True, {}
    if membership_id is None:
        _fill(missing)
        return AccessState(session_ok, False, 0, 0, **extras)
    tver = found.get(_tenant_key(tenant_id))
    if tver is None:
        tver = missing[_tenant_key(tenant_id)] = _load_tenant(tenant_id)
    mver = found.get(_membership_key(tenant_id, membership_id))
    if mver is None:
        mver = missing[_membership_key(tenant_id, membership_id)] = _load_membership(
            tenant_id, membership_id
        )
    _fill(missing)
    return AccessState(
        session_ok=session_ok,
        membership_ok=bool(mver[1]) and bool(tver[1]),
        tenant_version=tver[0],
        membership_version=mver[0],
        **extras,
    )


def _refresh_after_commit(key: str, load: Callable[[], tuple]) -> None:
    """Drop the cached state now, and after commit store the committed value (plain SET).

    Readers fill with SET NX, so a reader that loaded the old row before the commit can never
    overwrite the value written here: the next request in any process sees the change.
    """
    if not _uses_redis():
        return
    cache.delete(key)
    transaction.on_commit(lambda: cache.set(key, load(), STATE_TTL))


def state_invalidate_session(*, tenant_id, session_id) -> None:
    _refresh_after_commit(_session_key(tenant_id, session_id), lambda: _load_session(session_id))


def state_invalidate_tenant(*, tenant_id) -> None:
    _refresh_after_commit(_tenant_key(tenant_id), lambda: _load_tenant(tenant_id))


def state_invalidate_membership(*, membership_id, tenant_id=None) -> None:
    if tenant_id is None:
        tenant_id = (
            Membership.objects.filter(pk=membership_id).values_list("tenant_id", flat=True).first()
        )
    _refresh_after_commit(
        _membership_key(tenant_id, membership_id),
        lambda: _load_membership(tenant_id, membership_id),
    )
