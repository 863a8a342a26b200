"""Revoking a member's (or a tenant's) credentials: sessions, refresh tokens, versions, audit."""

from datetime import timedelta

from django.utils import timezone

from tessera.audit.models import AuditEvent, AuditEventType
from tessera.authn.models import RefreshToken, Session
from tessera.authn.revocation import (
    credentials_revoke_for_membership,
    credentials_revoke_for_tenant,
)
from tessera.tenancy.models import Membership, Tenant
from tests.factories import make_member


def make_session(membership, *, revoked=False):
    now = timezone.now()
    session = Session.objects.create(
        user=membership.user,
        tenant=membership.tenant,
        membership=membership,
        last_activity_at=now,
        expires_at=now + timedelta(hours=1),
        absolute_expires_at=now + timedelta(days=1),
        auth_method="password",
        revoked_at=now if revoked else None,
    )
    RefreshToken.objects.create(
        session=session,
        token_hash=f"{session.pk.hex}{'0' * 32}",
        created_at=now,
        expires_at=now + timedelta(days=1),
    )
    return session


def test_a_members_sessions_and_refresh_tokens_in_the_tenant_are_revoked(tenant, other_tenant):
    member = make_member(tenant, "r1@example.test")
    bystander = make_member(tenant, "r2@example.test")
    elsewhere = make_member(other_tenant, user=member.user)
    mine = [make_session(member), make_session(member)]
    theirs = make_session(bystander)
    other = make_session(elsewhere)
    version = Membership.objects.get(pk=member.pk).version

    counts = credentials_revoke_for_membership(membership=member, reason="test", actor=None)

    assert counts == {"sessions": 2, "api_keys": 0}
    for s in mine:
        s.refresh_from_db()
        assert s.revoked_at is not None and s.revoked_reason == "test"
        assert s.refresh_tokens.get().revoked_at is not None
    for s in (theirs, other):
        s.refresh_from_db()
        assert s.revoked_at is None
        assert s.refresh_tokens.get().revoked_at is None
    assert Membership.objects.get(pk=member.pk).version == version + 1
    event = AuditEvent.objects.filter(tenant=tenant, type=AuditEventType.SESSION_REVOKED).get()
    assert event.changes["sessions"] == 2


def test_nothing_to_revoke_still_bumps_the_version_without_an_event(tenant):
    member = make_member(tenant, "r3@example.test")
    make_session(member, revoked=True)
    version = Membership.objects.get(pk=member.pk).version
    assert credentials_revoke_for_membership(membership=member, reason="x") == {
        "sessions": 0,
        "api_keys": 0,
    }
    assert Membership.objects.get(pk=member.pk).version == version + 1
    assert not AuditEvent.objects.filter(type=AuditEventType.SESSION_REVOKED).exists()


def test_a_tenants_sessions_are_all_revoked(tenant, other_tenant):
    a = make_session(make_member(tenant, "t1@example.test"))
    b = make_session(make_member(tenant, "t2@example.test"))
    c = make_session(make_member(other_tenant, "t3@example.test"))
    before = Tenant.objects.get(pk=tenant.pk).policy_version

    assert credentials_revoke_for_tenant(tenant=tenant, reason="off") == {
        "sessions": 2,
        "api_keys": 0,
    }

    assert Session.objects.filter(pk__in=[a.pk, b.pk], revoked_at__isnull=False).count() == 2
    assert Session.objects.get(pk=c.pk).revoked_at is None
    assert RefreshToken.objects.filter(revoked_at__isnull=False).count() == 2
    assert Tenant.objects.get(pk=tenant.pk).policy_version == before + 1
