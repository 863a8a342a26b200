"""POST /api/v1/users/{id}/erase: credentials revoked, tenant data deleted, identity anonymized
when it was the person's only tenant, audit events redacted — and the hash chains still verify."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from tessera.access.models import Delegation, Grant, MembershipOverride, RoleAssignment, RoleRule
from tessera.audit.models import AuditEvent
from tessera.audit.selectors import audit_chain_verify
from tessera.audit.services import PLATFORM_CHAIN
from tessera.authn.models import ApiKey, Session
from tessera.identity.models import BackupCode, TotpFactor, User
from tessera.tenancy.models import Membership
from tessera.tenancy.services import tenant_policy_bump
from tests.admin_api.test_revocation import make_session
from tests.factories import DEFAULT_PASSWORD, make_member
from tests.privacy.conftest import (
    AVATAR,
    EMAIL,
    FIRST,
    IP,
    LAST,
    PHONE,
    UA,
    as_person,
    personal_data_left,
)

PERSONAL = (EMAIL, FIRST, LAST, PHONE, AVATAR, UA, "ZQ-0142")


def erase(world, caller=None):
    return world.api(caller or world.admin).post(f"/users/{world.uid}/erase")


def verify(world) -> dict:
    r = world.api(world.admin).post("/audit-events/verify")
    assert r.status_code == 200
    return r.json()


def test_erasure_leaves_no_personal_field_in_any_table_and_the_chains_verify(client, world):
    assert personal_data_left(PERSONAL, [IP])  # the scan finds what is there
    assert verify(world)["valid"] is True

    r = erase(world)

    assert r.status_code == 200, r.content
    summary = r.json()
    assert summary["user_id"] == world.uid and summary["identity_anonymized"] is True
    assert summary["revoked"]["sessions"] == 1 and summary["revoked"]["api_keys"] == 1
    assert summary["deleted"]["grants"] == 1 and summary["deleted"]["delegations"] == 2
    assert summary["audit_events_redacted"] > 5
    assert personal_data_left(PERSONAL, [IP]) == []

    # every chain still verifies: this tenant's (API, CLI) and the platform's
    report = verify(world)
    assert report["valid"] is True, report
    assert audit_chain_verify(key=PLATFORM_CHAIN).valid
    call_command("audit", "verify", stdout=StringIO())
    # the redacted events are kept, with their pseudonymous ids
    login = AuditEvent.objects.get(type="LOGIN", actor_user_id=world.uid)
    assert login.redacted_at is not None and login.ip is None and login.changes is None
    erased = AuditEvent.objects.get(type="DATA_ERASED")
    assert erased.resource_id == world.uid and erased.redacted_at is None
    assert str(erased.actor_user_id) == str(world.admin.user_id)


def test_the_identity_is_anonymized(world):
    erase(world)
    user = User.objects.get(pk=world.uid)
    assert user.email == f"erased-{world.uid}@erased.invalid"
    assert (user.first_name, user.last_name, user.phone, user.avatar_url) == ("", "", "", "")
    assert user.metadata == {} and not user.is_active and not user.has_usable_password()
    assert not TotpFactor.objects.filter(user=user).exists()
    assert not BackupCode.objects.filter(user=user).exists()
    assert not user.password_history.exists() and not user.trusted_devices.exists()
    assert not user.password_reset_tokens.exists() and not user.auth_sessions.exists()
    assert not Membership.objects.filter(user=user).exists()


def test_the_tenant_data_is_gone_and_nobody_elses(world):
    others = RoleAssignment.objects.exclude(membership=world.person).count()
    erase(world)
    person = world.person.pk
    assert not RoleAssignment.objects.filter(membership_id=person).exists()
    assert not MembershipOverride.objects.filter(membership_id=person).exists()
    assert not Grant.objects.filter(membership_id=person).exists()
    assert not Delegation.objects.exists()
    assert not ApiKey.objects.filter(membership_id=person).exists()
    assert RoleAssignment.objects.count() == others
    assert Membership.objects.filter(pk=world.colleague.pk).exists()


def test_sessions_and_keys_stop_at_the_next_request(client, world):
    erase(world)
    assert as_person(client, "get", "/auth/me", world.token).status_code == 401
    assert as_person(client, "get", "/auth/me", **{"X-API-Key": world.api_key}).status_code == 401
    r = as_person(client, "post", "/auth/refresh", body={"refresh_token": world.extra["refresh"]})
    assert r.status_code == 401
    r = as_person(
        client, "post", "/auth/login", body={"email": EMAIL, "password": DEFAULT_PASSWORD}
    )
    assert r.status_code == 401


def test_a_person_of_other_tenants_keeps_identity_and_other_memberships(client, world):
    elsewhere = make_member(world.globex, user=world.person.user, roles=["member"])
    # his session began before his MFA was on: a switch would ask for a code (the tenant's
    # policy runs on every door); count it as having given one
    Session.objects.filter(user_id=world.uid).update(mfa_verified_at=timezone.now())
    r = as_person(client, "post", "/auth/switch-tenant", world.token, {"tenant": "globex"})
    assert r.status_code == 200, r.content
    globex_token = r.json()["access_token"]
    acme_events = AuditEvent.objects.filter(chain=str(world.acme.pk), actor_user_id=world.uid)
    globex_login = AuditEvent.objects.get(chain=str(world.globex.pk), type="LOGIN")

    r = erase(world)

    assert r.status_code == 200, r.content
    assert r.json()["identity_anonymized"] is False
    user = User.objects.get(pk=world.uid)
    assert (user.email, user.first_name, user.is_active) == (EMAIL, FIRST, True)
    assert TotpFactor.objects.filter(user=user).exists()
    assert list(Membership.objects.filter(user=user)) == [elsewhere]
    # this tenant's credentials died; the other tenant's live on
    assert as_person(client, "get", "/auth/me", world.token).status_code == 401
    assert as_person(client, "get", "/auth/me", globex_token).status_code == 200
    assert not Session.objects.filter(user=user, tenant=world.acme).exists()
    # this tenant's events are redacted, the other tenant's are not
    assert acme_events.exists() and all(e.redacted_at for e in acme_events)
    globex_login.refresh_from_db()
    assert globex_login.redacted_at is None and globex_login.ip == IP
    for tenant in (world.acme, world.globex):
        assert audit_chain_verify(key=str(tenant.pk)).valid
    # nothing of him is left in acme's own tables
    assert not Membership.objects.filter(tenant=world.acme, user=user).exists()
    assert not AuditEvent.objects.filter(chain=str(world.acme.pk), ip=IP).exists()


def test_a_platform_administrator_keeps_the_identity(world):
    User.objects.filter(pk=world.uid).update(is_platform_admin=True)
    r = erase(world)
    assert r.status_code == 200 and r.json()["identity_anonymized"] is False
    assert User.objects.get(pk=world.uid).email == EMAIL


def test_the_last_administrator_cannot_be_erased(world):
    eraser = world.acme.roles.create(slug="eraser", name="Eraser")
    RoleRule.objects.create(role=eraser, permission="user:delete")
    RoleRule.objects.create(role=eraser, permission="audit_log:read")
    RoleAssignment.objects.create(membership=world.colleague, role=eraser)
    r = world.api(world.colleague).post(f"/users/{world.admin.user_id}/erase")
    assert r.status_code == 403 and r.json()["code"] == "target_outranks_you"  # issue 12
    # someone holding *:* without the admin role meets the last-administrator rule
    RoleRule.objects.create(role=eraser, permission="*:*")
    tenant_policy_bump(tenant_id=world.acme.pk)
    r = world.api(world.colleague).post(f"/users/{world.admin.user_id}/erase")
    assert r.status_code == 409
    assert r.json()["code"] == "last_admin"
    assert Membership.objects.filter(pk=world.admin.pk).exists()
    assert not AuditEvent.objects.filter(type="DATA_ERASED").exists()
    # with a second administrator, the first one may go
    make_member(world.acme, "second@acme.test", roles=["admin"])
    assert world.api(world.colleague).post(f"/users/{world.admin.user_id}/erase").status_code == 200


def test_nobody_erases_themselves_here(world):
    r = world.api(world.admin).post(f"/users/{world.admin.user_id}/erase")
    assert r.status_code == 409 and r.json()["code"] == "self_action_forbidden"


def test_erasure_needs_user_delete(world):
    for caller in (world.colleague, world.guest):
        r = world.api(caller).post(f"/users/{world.uid}/erase")
        assert r.status_code == 403
    # not even their own data: erasure is an administrator's act
    assert world.api(world.guest).post(f"/users/{world.guest.user_id}/erase").status_code == 403
    assert Membership.objects.filter(pk=world.person.pk).exists()


def test_another_tenants_user_is_404_and_unchanged(world):
    r = world.api(world.outsider).post(f"/users/{world.uid}/erase")
    assert r.status_code == 404
    assert Membership.objects.filter(pk=world.person.pk).exists()
    assert not AuditEvent.objects.filter(redacted_at__isnull=False).exists()


def test_erased_data_cannot_be_exported_any_more(world):
    erase(world)
    assert world.api(world.admin).get(f"/users/{world.uid}/export").status_code == 404


def test_a_tenant_session_bound_to_no_membership_is_revoked_and_deleted(world):
    make_member(world.globex, user=world.person.user)  # the identity stays: only acme's rows go
    loose = make_session(world.person)
    Session.objects.filter(pk=loose.pk).update(membership=None)
    r = erase(world)
    assert r.status_code == 200 and r.json()["revoked"]["sessions"] == 2
    assert not Session.objects.filter(pk=loose.pk).exists()
    erased = AuditEvent.objects.get(type="DATA_ERASED")
    assert erased.changes["revoked"]["sessions"] == 2


def test_only_the_persons_own_email_counts_not_a_longer_one(world):
    lookalike = make_member(world.acme, f"a{EMAIL}", roles=["member"])
    assert world.api(world.admin).delete(f"/users/{lookalike.user_id}").status_code == 204
    removed = AuditEvent.objects.get(type="MEMBERSHIP_REMOVED", resource_id=lookalike.user_id)
    assert removed.changes == {"email": f"a{EMAIL}"}
    erase(world)
    removed.refresh_from_db()
    assert removed.redacted_at is None and removed.changes == {"email": f"a{EMAIL}"}
