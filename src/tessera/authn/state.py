"""Is this credential still good, and which policy versions are current? One round trip.

Every authenticated request asks `access_state`. With Redis configured it is one `MGET` over
three keys (session, tenant version, membership version), filled from the database on a miss
and deleted after any commit that changes them. Without Redis it is one indexed database query,
so several server processes never disagree (an in-process cache could not be invalidated
across processes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

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


DENIED = AccessState(False, False, 0, 0)


def _session_key(tenant_id, session_id) -> str:
    return f"sess:{tenant_id or '-'}:{session_id}"


def _tenant_key(tenant_id) -> str:
    return f"pv:t:{tenant_id}"


def _membership_key(tenant_id, membership_id) -> str:
    return f"pv:m:{tenant_id}:{membership_id}"


def _uses_redis() -> bool:
    return bool(settings.REDIS_URL)


def _session_row(session_id):
    return (
        Session.objects.filter(pk=session_id)
        .values_list(
            "revoked_at",
            "expires_at",
            "absolute_expires_at",
            "user__is_active",
            "mfa_verified_at",
            "risk_score",
            "password_change_required",
        )
        .first()
    )


def _session_ok(row, now: datetime) -> bool:
    revoked_at, expires_at, absolute_expires_at, user_active = row[:4]
    return revoked_at is None and user_active and now < expires_at and now < absolute_expires_at


def access_state(*, session_id, tenant_id, membership_id, now: datetime) -> AccessState:
    """The live state behind a credential (session may be None for API keys)."""
    if _uses_redis():
        return _access_state_redis(session_id, tenant_id, membership_id, now)
    return _access_state_db(session_id, tenant_id, membership_id, now)


def _access_state_db(session_id, tenant_id, membership_id, now) -> AccessState:
    if session_id is not None:
        row = (
            Session.objects.filter(pk=session_id)
            .values_list(
                "revoked_at",
                "expires_at",
                "absolute_expires_at",
                "user__is_active",
                "mfa_verified_at",
                "risk_score",
                "password_change_required",
                "membership__status",
                "membership__version",
                "tenant__policy_version",
                "tenant__is_active",
                "membership_id",
            )
            .first()
        )
        if row is None:
            return DENIED
        if membership_id is None:
            return AccessState(_session_ok(row, now), False, 0, 0, row[4], row[5], row[6])
        if str(row[11]) != str(membership_id):
            return DENIED
        return AccessState(
            session_ok=_session_ok(row, now),
            membership_ok=row[7] == MembershipStatus.ACTIVE and bool(row[10]),
            tenant_version=row[9] or 0,
            membership_version=row[8] or 0,
            mfa_verified_at=row[4],
            risk_score=row[5],
            password_change_required=row[6],
        )
    row = (
        Membership.objects.filter(pk=membership_id, tenant_id=tenant_id)
        .values_list(
            "status", "version", "tenant__policy_version", "tenant__is_active", "user__is_active"
        )
        .first()
    )
    if row is None:
        return DENIED
    ok = row[0] == MembershipStatus.ACTIVE and bool(row[3]) and bool(row[4])
    return AccessState(True, ok, row[2], row[1])


def _access_state_redis(session_id, tenant_id, membership_id, now) -> AccessState:
    keys = []
    if session_id is not None:
        keys.append(_session_key(tenant_id, session_id))
    if membership_id is not None:
        keys += [_tenant_key(tenant_id), _membership_key(tenant_id, membership_id)]
    found = cache.get_many(keys)
    missing = {}
    if session_id is not None:
        sess = found.get(keys[0])
        if sess is None:
            row = _session_row(session_id)
            sess = tuple(row) if row is not None else ("missing",)
            missing[keys[0]] = sess
        if sess == ("missing",):
            return DENIED
        session_ok = _session_ok(sess, now)
        extras = (sess[4], sess[5], sess[6])
    else:
        session_ok, extras = True, (None, 0, False)
    if membership_id is None:
        if missing:
            cache.set_many(missing, STATE_TTL)
        return AccessState(session_ok, False, 0, 0, *extras)
    tver = found.get(_tenant_key(tenant_id))
    if tver is None:
        trow = (
            Tenant.objects.filter(pk=tenant_id).values_list("policy_version", "is_active").first()
        )
        tver = (trow[0], trow[1]) if trow else (0, False)
        missing[_tenant_key(tenant_id)] = tver
    mver = found.get(_membership_key(tenant_id, membership_id))
    if mver is None:
        mrow = (
            Membership.objects.filter(pk=membership_id, tenant_id=tenant_id)
            .values_list("version", "status", "user__is_active")
            .first()
        )
        mver = (mrow[0], mrow[1] == MembershipStatus.ACTIVE and mrow[2]) if mrow else (0, False)
        missing[_membership_key(tenant_id, membership_id)] = mver
    if missing:
        cache.set_many(missing, STATE_TTL)
    return AccessState(
        session_ok=session_ok,
        membership_ok=bool(mver[1]) and bool(tver[1]),
        tenant_version=tver[0],
        membership_version=mver[0],
        mfa_verified_at=extras[0],
        risk_score=extras[1],
        password_change_required=extras[2],
    )


def _delete_after_commit(*keys: str) -> None:
    if not _uses_redis():
        return
    cache.delete_many(list(keys))  # now, and again after commit so no reader refills stale data
    transaction.on_commit(lambda: cache.delete_many(list(keys)))


def state_invalidate_session(*, tenant_id, session_id) -> None:
    _delete_after_commit(_session_key(tenant_id, session_id))


def state_invalidate_tenant(*, tenant_id) -> None:
    _delete_after_commit(_tenant_key(tenant_id))


def state_invalidate_membership(*, membership_id, tenant_id=None) -> None:
    if tenant_id is None:
        tenant_id = (
            Membership.objects.filter(pk=membership_id).values_list("tenant_id", flat=True).first()
        )
    _delete_after_commit(_membership_key(tenant_id, membership_id))
