"""Member lifecycle services: creation, invitation, guard rails, bulk import, tenants."""

from __future__ import annotations

import pytest
from django.core import mail

from tessera.access.escalation import NotHeld
from tessera.access.models import RoleAssignment
from tessera.access.services.admins import LastAdmin
from tessera.access.services.roles import role_update
from tessera.administration.bulk_import import BULK_MAX_ROWS, bulk_rows_from_csv, member_bulk_create
from tessera.administration.invitation_accept import InvitationUsed, invitation_accept
from tessera.administration.members import (
    member_create,
    member_deactivate,
    member_reactivate,
    member_remove,
    member_update,
)
from tessera.administration.tenants import tenant_create_with_admin, tenant_deactivate
from tessera.audit.models import AuditEvent, AuditEventType
from tessera.errors import Conflict, ValidationFailed
from tessera.identity.models import User
from tessera.tenancy.errors import SelfActionForbidden
from tessera.tenancy.models import Membership, MembershipStatus, Tenant
from tests.factories import make_member, make_user

pytestmark = pytest.mark.django_db(transaction=False)


def test_a_new_identity_without_password_is_invited_by_email(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        created = member_create(
            tenant=world.acme,
            data={"email": "New@Example.test", "first_name": "Nia", "roles": ["viewer"]},
            by=world.admin,
        )
    assert created.user_created and created.invited
    user = created.membership.user
    assert user.email == "new@example.test" and not user.has_usable_password()
    assert [a.role.slug for a in created.membership.role_assignments.all()] == ["viewer"]
    assert created.membership.status == MembershipStatus.ACTIVE
    assert user.managed_by_tenant_id == world.acme.pk and user.email_verified_at is None
    [message] = mail.outbox
    assert message.to == ["new@example.test"]
    assert "/invitations/accept/?token=" in message.body
    token = message.body.split("token=")[1].split()[0]
    invitation_accept(token=token, password="a much longer passphrase here")
    user.refresh_from_db()
    assert user.check_password("a much longer passphrase here")
    assert user.email_verified_at is not None and user.managed_by_tenant_id is None
    with pytest.raises(InvitationUsed):  # works once
        invitation_accept(token=token, password="another long passphrase 2")


def test_an_existing_identity_is_invited_and_keeps_its_credentials(world):
    person = world.outsider.user
    hashed = person.password
    with pytest.raises(ValidationFailed) as err:  # no password for someone else's identity
        member_create(
            tenant=world.acme,
            data={"email": person.email, "password": "another long passphrase 1"},
            by=world.admin,
        )
    assert [e["field"] for e in err.value.errors] == ["password"]
    created = member_create(
        tenant=world.acme, data={"email": person.email, "first_name": "X"}, by=world.admin
    )
    assert not created.user_created and created.invited
    assert created.membership.status == MembershipStatus.INVITED
    person.refresh_from_db()
    assert person.password == hashed and person.first_name == ""


def test_a_given_password_follows_the_tenant_policy_and_must_be_changed(world):
    with pytest.raises(ValidationFailed) as err:
        member_create(tenant=world.acme, data={"email": "p@x.test", "password": "short"}, by=None)
    assert {e["field"] for e in err.value.errors} == {"password"}
    created = member_create(
        tenant=world.acme,
        data={"email": "p@x.test", "password": "a sufficiently long passphrase"},
        by=None,
    )
    assert created.membership.user.must_change_password is True


def test_invalid_fields_are_all_reported(world):
    with pytest.raises(ValidationFailed) as err:
        member_create(
            tenant=world.acme,
            data={"email": "nope", "roles": ["viewer", "ghost"], "manager_id": "not-an-id"},
            by=world.admin,
        )
    fields = {e["field"] for e in err.value.errors}
    assert fields == {"email", "roles[1]", "manager_id"}


def test_an_existing_member_is_a_conflict(world):
    with pytest.raises(Conflict):
        member_create(tenant=world.acme, data={"email": "viewer@acme.test"}, by=world.admin)


def test_roles_one_does_not_hold_cannot_be_given(world):
    with pytest.raises(NotHeld):
        member_create(
            tenant=world.acme, data={"email": "esc@x.test", "roles": ["admin"]}, by=world.manager
        )
    assert not User.objects.filter(email="esc@x.test").exists()


def test_nobody_can_deactivate_or_remove_themselves(world):
    with pytest.raises(SelfActionForbidden):
        member_deactivate(membership=world.admin, by=world.admin)
    with pytest.raises(SelfActionForbidden):
        member_remove(membership=world.admin, by=world.admin)


def test_the_last_active_admin_cannot_be_deactivated_or_removed(world):
    with pytest.raises(LastAdmin):
        member_deactivate(membership=world.admin, by=None)
    with pytest.raises(LastAdmin):
        member_remove(membership=world.admin, by=None)
    second = make_member(world.acme, "admin2@acme.test", roles=["admin"])
    member_deactivate(membership=world.admin, by=second)
    with pytest.raises(LastAdmin):
        member_remove(membership=second, by=None)


def test_deactivation_suspends_revokes_and_audits_and_reactivation_restores(world):
    member_deactivate(membership=world.viewer, by=world.admin)
    viewer = Membership.objects.get(pk=world.viewer.pk)
    assert viewer.status == MembershipStatus.SUSPENDED
    assert AuditEvent.objects.filter(type=AuditEventType.USER_DEACTIVATED).count() == 1
    member_reactivate(membership=viewer, by=world.admin)
    assert Membership.objects.get(pk=world.viewer.pk).status == MembershipStatus.ACTIVE
    assert AuditEvent.objects.filter(type=AuditEventType.USER_REACTIVATED).count() == 1


def test_removal_keeps_the_identity(world):
    member_remove(membership=world.member, by=world.admin)
    assert not Membership.objects.filter(pk=world.member.pk).exists()
    assert User.objects.filter(pk=world.member.user_id).exists()
    assert AuditEvent.objects.filter(type=AuditEventType.MEMBERSHIP_REMOVED).count() == 1


def test_update_records_before_and_after_and_bumps_the_version(world):
    version = Membership.objects.get(pk=world.viewer.pk).version
    member_update(
        membership=world.viewer,
        changes={
            "department": "R&D",
            "first_name": "Vic",
            "manager_id": str(world.manager.user_id),
        },
        by=world.admin,
    )
    viewer = Membership.objects.select_related("user").get(pk=world.viewer.pk)
    assert (viewer.department, viewer.user.first_name) == ("R&D", "Vic")
    assert viewer.manager_id == world.manager.pk
    assert viewer.version > version
    event = AuditEvent.objects.get(type=AuditEventType.PROFILE_UPDATE)
    assert event.changes["before"]["department"] == "QA"
    assert event.changes["after"] == {
        "first_name": "Vic",
        "department": "R&D",
        "manager_id": str(world.manager.user_id),
    }


def test_a_shared_identitys_profile_belongs_to_the_person(world):
    shared = make_member(world.acme, user=world.outsider.user, roles=[])
    with pytest.raises(Conflict) as err:
        member_update(membership=shared, changes={"first_name": "Hijack"}, by=world.admin)
    assert err.value.code == "profile_managed_elsewhere"
    member_update(membership=shared, changes={"department": "Ops"}, by=world.admin)


def test_read_only_and_unknown_fields_are_refused(world):
    with pytest.raises(ValidationFailed) as err:
        member_update(membership=world.viewer, changes={"email": "x@y.test"}, by=world.admin)
    assert err.value.errors[0]["code"] == "read_only"


# --- bulk ---------------------------------------------------------------------------------------


def test_bulk_import_is_idempotent_by_email(world):
    rows = [
        {"email": "b1@acme.test", "roles": ["viewer"]},
        {"email": "B2@acme.test", "department": "QA"},
        {"email": "viewer@acme.test"},
        {"email": "b1@acme.test"},
    ]
    first = member_bulk_create(tenant=world.acme, rows=rows, by=world.admin)
    assert [r.status for r in first] == ["created", "created", "exists", "exists"]
    assert first[3].id == first[0].id
    count = Membership.objects.count()
    events = AuditEvent.objects.count()
    again = member_bulk_create(tenant=world.acme, rows=rows, by=world.admin)
    assert [r.status for r in again] == ["exists"] * 4
    assert Membership.objects.count() == count
    assert AuditEvent.objects.count() == events


def test_bulk_validates_every_row_first_and_writes_nothing_when_one_is_bad(world):
    rows = [{"email": "ok@acme.test"}, {"email": "bad"}, {"email": "x@acme.test", "roles": ["no"]}]
    with pytest.raises(ValidationFailed) as err:
        member_bulk_create(tenant=world.acme, rows=rows, by=world.admin)
    assert {e["field"] for e in err.value.errors} == {"users[1].email", "users[2].roles[0]"}
    assert not User.objects.filter(email="ok@acme.test").exists()


def test_a_bulk_row_failing_a_guard_rail_leaves_nothing_and_others_are_kept(world):
    role_update(role=world.acme.roles.get(slug="viewer"), max_members=1)
    rows = [{"email": "r1@acme.test"}, {"email": "r2@acme.test", "roles": ["viewer"]}]
    results = member_bulk_create(tenant=world.acme, rows=rows, by=world.admin)
    assert [r.status for r in results] == ["created", "error"]
    assert results[1].errors
    assert User.objects.filter(email="r1@acme.test").exists()
    assert not User.objects.filter(email="r2@acme.test").exists()  # no partial row


def test_bulk_is_capped(world):
    with pytest.raises(ValidationFailed) as err:
        member_bulk_create(
            tenant=world.acme, rows=[{"email": "a@b.test"}] * (BULK_MAX_ROWS + 1), by=None
        )
    assert err.value.errors[0]["field"] == "users"


def test_csv_rows_are_parsed_with_roles_lists():
    rows = bulk_rows_from_csv(
        "\ufeffEmail,first_name,roles,department\n"
        "a@x.test,Ann,viewer;member,QA\n"
        '"b@x.test","Bo, Jr",,\n'
    )
    assert rows == [
        {
            "email": "a@x.test",
            "first_name": "Ann",
            "roles": ["viewer", "member"],
            "department": "QA",
        },
        {"email": "b@x.test", "first_name": "Bo, Jr"},
    ]


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("", "file"),
        ("name\nx\n", "columns"),
        ("email,password\na@x.test,secret\n", "columns"),
        ("email\na@x.test,extra\n", "rows[0]"),
        ('email\n"a@x.test\n', "file"),
    ],
)
def test_bad_csv_is_refused_naming_the_problem(text, field):
    with pytest.raises(ValidationFailed) as err:
        bulk_rows_from_csv(text)
    assert err.value.errors[0]["field"] == field


# --- tenants ------------------------------------------------------------------------------------


def test_a_tenant_with_a_first_admin(db):
    person = make_user("boss@corp.test")
    tenant, created = tenant_create_with_admin(slug="corp", name="Corp", admin_email=person.email)
    assert {r.slug for r in tenant.roles.all()} == {"admin", "manager", "member", "viewer"}
    assert created.membership.user == person
    assert RoleAssignment.objects.filter(membership=created.membership, role__slug="admin").exists()


def test_deactivating_a_tenant_revokes_its_sessions(world):
    from tests.admin_api.test_revocation import make_session

    session = make_session(world.viewer)
    tenant_deactivate(tenant=world.acme)
    session.refresh_from_db()
    assert session.revoked_at is not None
    assert Tenant.objects.get(pk=world.acme.pk).is_active is False


def test_nobody_changes_their_own_access_attributes(world):
    from tessera.administration.member_input import OwnAccessAttributes

    with pytest.raises(OwnAccessAttributes) as err:
        member_update(membership=world.manager, changes={"clearance_level": 9}, by=world.manager)
    assert err.value.errors[0]["field"] == "clearance_level"
    member_update(membership=world.manager, changes={"first_name": "Me"}, by=world.manager)
