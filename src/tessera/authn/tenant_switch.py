"""Switching a session to another tenant the person is an active member of."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from tessera.audit.models import AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.authn.errors import (
    SessionEnded,
)
from tessera.authn.models import RefreshToken, Session
from tessera.authn.session_state import state_invalidate_session
from tessera.authn.sessions import (
    IssuedTokens,
    _actor_for,
    _session_limit_enforce,
    session_policy_for,
    session_tokens_issue,
)
from tessera.identity.models import User
from tessera.tenancy.errors import NotAMember
from tessera.tenancy.models import Membership, MembershipStatus, Tenant
from tessera.tenancy.selectors import tenant_find

# --- tenant switch --------------------------------------------------------------------------------


def _active_membership(*, user, hint: str) -> tuple[Tenant, Membership]:
    tenant = tenant_find(hint=hint)
    membership = (
        Membership.objects.select_related("tenant")
        .filter(user_id=user.pk, tenant=tenant, status=MembershipStatus.ACTIVE)
        .first()
        if tenant is not None
        else None
    )
    if membership is None:
        raise NotAMember("You are not an active member of this tenant")
    return membership.tenant, membership


def switch_target(*, user, hint: str) -> tuple[Tenant, Membership]:
    """The tenant named by `hint` and the user's active membership there (403 otherwise)."""
    return _active_membership(user=user, hint=hint)


def session_switch_tenant(
    *, session_id, user, tenant_hint: str, actor: Actor | None = None
) -> IssuedTokens:
    """Re-bind the session to another tenant of the user: new tokens; the old ones stop working.

    The session keeps its id; its idle timeout and absolute lifetime tighten to the new tenant's
    policy when that one is stricter, and beyond the new tenant's `max_sessions` the person's
    oldest other sessions end.
    """
    tenant, membership = _active_membership(user=user, hint=tenant_hint)
    now = timezone.now()
    policy = session_policy_for(tenant)
    with transaction.atomic():
        session = (
            Session.objects.select_for_update()
            .filter(pk=session_id, user_id=user.pk, revoked_at__isnull=True)
            .first()
        )
        if session is None:
            raise SessionEnded("The session has ended; sign in again")
        old_tenant_id = session.tenant_id
        idle = timedelta(minutes=policy.idle_timeout_minutes)
        session.absolute_expires_at = min(
            session.absolute_expires_at,
            session.created_at + timedelta(minutes=policy.absolute_lifetime_minutes),
        )
        session.idle_seconds = min(session.idle_seconds, int(idle.total_seconds()))
        session.tenant, session.membership = tenant, membership
        session.last_activity_at = now
        session.expires_at = min(
            now + timedelta(seconds=session.idle_seconds), session.absolute_expires_at
        )
        session.save(
            update_fields=[
                "tenant",
                "membership",
                "absolute_expires_at",
                "idle_seconds",
                "last_activity_at",
                "expires_at",
            ]
        )
        RefreshToken.objects.filter(session=session, spent_at__isnull=True).update(revoked_at=now)
        # the new tenant's session limit holds too (its policy runs on this door as on login);
        # serialised with the user's logins as session_create is
        list(User.objects.select_for_update().filter(pk=user.pk).order_by().values_list("pk"))
        _session_limit_enforce(
            user_id=user.pk, keep=session.pk, limit=policy.max_sessions, actor=actor, now=now
        )
        tokens = session_tokens_issue(session=session, now=now)
        state_invalidate_session(tenant_id=old_tenant_id, session_id=session.pk)
        state_invalidate_session(tenant_id=tenant.pk, session_id=session.pk)
        audit_record(
            type=AuditEventType.LOGIN,
            actor=_actor_for(actor, user_id=user.pk, membership_id=membership.pk),
            tenant_id=tenant.pk,
            resource_type="session",
            resource_id=session.pk,
            changes={
                "method": "switch_tenant",
                "from_tenant": str(old_tenant_id) if old_tenant_id else None,
            },
        )
    return tokens
