"""Is this credential still good, and which policy versions are current? One round trip.

Every authenticated request asks `access_state`: its session's liveness (revoked, expired, bound
to the membership it names, its MFA and risk facts) read together with the versions of the
version store (`tessera.access.versions`). With Redis configured it is one `MGET` over three keys
(session, tenant version, membership version) — one EVALSHA when the request's budget counter
rides along (`RideAlong`, tessera.api.throttle) — filled from the database on a miss and rewritten
after any commit that changes them; without Redis — or while it does not answer
(`tessera.access.redis_breaker`) — it is one indexed database query (compiled once per
connection) joining the session to its membership and tenant.
"""

from __future__ import annotations

from datetime import datetime

from tessera.access.prepared import PreparedRow
from tessera.access.redis_breaker import REDIS_ERRORS, redis_failed
from tessera.access.versions import (
    DENIED,
    AccessState,
    RideAlong,
    cache_fill,
    membership_key,
    membership_state,
    redis_get_many_counting,
    refresh_after_commit,
    tenant_key,
    uses_redis,
    versions_state,
)
from tessera.authn.models import Session
from tessera.tenancy.models import MembershipStatus

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


_SESSION_ROW = PreparedRow(
    Session,
    lambda pk: Session.objects.filter(pk=pk).values_list(*_S_FIELDS).order_by()[:1],
)
_SESSION_STATE_ROW = PreparedRow(
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


def access_state(
    *, session_id, tenant_id, membership_id, now: datetime, counter: RideAlong | None = None
) -> AccessState:
    """The live state behind a credential (session may be None for API keys). With `counter`,
    that request-budget counter is spent in the same Redis round trip and its value answered as
    `spent` (None when it was not spent: no Redis, or Redis failing)."""
    if session_id is None:
        return membership_state(
            tenant_id=tenant_id, membership_id=membership_id, now=now, counter=counter
        )
    if uses_redis():
        try:
            return _access_state_redis(session_id, tenant_id, membership_id, now, counter)
        except REDIS_ERRORS as exc:  # Redis went away: the database answers (redis_breaker)
            redis_failed(exc)
    return _access_state_db(session_id, tenant_id, membership_id, now)


def _access_state_db(session_id, tenant_id, membership_id, now) -> AccessState:
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


def _load_session(session_id) -> tuple:
    row = _session_row(session_id)
    return tuple(row) if row is not None else ("missing",)


def _access_state_redis(session_id, tenant_id, membership_id, now, counter) -> AccessState:
    keys = [_session_key(tenant_id, session_id)]
    if membership_id is not None:
        keys += [tenant_key(tenant_id), membership_key(tenant_id, membership_id)]
    found, spent = redis_get_many_counting(keys, counter)
    missing = {}
    sess = found.get(keys[0])
    if sess is None:
        sess = missing[keys[0]] = _load_session(session_id)
    cache_fill(missing)
    if sess == ("missing",):
        return DENIED
    session_ok = _session_ok(sess, now, membership_id)
    extras = {**_session_extras(sess), "spent": spent}
    if membership_id is None:
        return AccessState(session_ok, False, 0, 0, **extras)
    return versions_state(
        found,
        tenant_id=tenant_id,
        membership_id=membership_id,
        session_ok=session_ok,
        extras=extras,
    )


def state_invalidate_session(*, tenant_id, session_id) -> None:
    refresh_after_commit(_session_key(tenant_id, session_id), lambda: _load_session(session_id))
