"""Group → role mapping and its sync: mapped roles come and go with groups, hand-given stay."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from tessera.access.selectors import role_get, role_slugs_of_membership
from tessera.access.services import role_assign
from tessera.audit.models import AuditEvent
from tessera.directory.errors import GroupMappingInvalid
from tessera.directory.groups import group_mapping_set, membership_groups_sync
from tessera.directory.models import MappedAssignment
from tessera.directory.selectors import mapped_roles, roles_for_groups
from tessera.errors import PermissionDenied
from tessera.tenancy.models import Membership
from tests.access.helpers import allow, make_role
from tests.factories import make_member, make_tenant

pytestmark = pytest.mark.django_db


def roles_of(member) -> set[str]:
    return set(role_slugs_of_membership(membership=Membership.objects.get(pk=member.pk)))


@pytest.fixture
def mapped(tenant):
    make_role(tenant, "analyst", allow("sample:read"))
    make_role(tenant, "approver", allow("sample:approve"))
    group_mapping_set(
        tenant=tenant,
        mapping=[
            {"group": "lab-analysts", "roles": ["analyst"]},
            {"group": "qa", "roles": ["approver", "analyst"]},
        ],
    )
    return tenant


def test_the_mapping_is_per_tenant_and_exact(mapped, other_tenant):
    assert [r.slug for r in roles_for_groups(tenant=mapped, groups={"qa"})] == [
        "analyst",
        "approver",
    ]
    assert list(roles_for_groups(tenant=mapped, groups={"QA", "lab"})) == []
    assert list(roles_for_groups(tenant=other_tenant, groups={"qa"})) == []


def test_groups_give_roles_and_a_removed_group_takes_its_role_away(mapped):
    member = make_member(mapped, roles=["viewer"])
    changes = membership_groups_sync(membership=member, groups={"qa"}, source="sso:x")
    assert set(changes.added) == {"analyst", "approver"}
    assert roles_of(member) == {"viewer", "analyst", "approver"}
    changes = membership_groups_sync(membership=member, groups={"lab-analysts"}, source="sso:x")
    assert changes.removed == ("approver",) and changes.added == ()
    assert roles_of(member) == {"viewer", "analyst"}
    membership_groups_sync(membership=member, groups=set(), source="sso:x")
    assert roles_of(member) == {"viewer"}  # the hand-given role stays
    assert MappedAssignment.objects.filter(membership=member).count() == 0


def test_a_role_held_by_hand_stays_when_its_group_goes(mapped):
    member = make_member(mapped, roles=["analyst"])
    membership_groups_sync(membership=member, groups={"qa"}, source="scim")
    assert mapped_roles(membership=member) == {"analyst": ["scim"], "approver": ["scim"]}
    membership_groups_sync(membership=member, groups=[], source="scim")
    assert roles_of(member) == {"analyst"}


def test_another_source_keeps_a_role_one_source_drops(mapped):
    member = make_member(mapped, roles=[])
    membership_groups_sync(membership=member, groups={"qa"}, source="scim")
    membership_groups_sync(membership=member, groups={"lab-analysts"}, source="sso:x")
    membership_groups_sync(membership=member, groups=set(), source="scim")
    assert roles_of(member) == {"analyst"}
    assert mapped_roles(membership=member) == {"analyst": ["sso:x"]}


def test_sync_bumps_the_members_version_and_audits_the_source(mapped):
    member = make_member(mapped, roles=[])
    before = Membership.objects.get(pk=member.pk).version
    membership_groups_sync(membership=member, groups={"lab-analysts"}, source="sso:x")
    assert Membership.objects.get(pk=member.pk).version > before
    event = AuditEvent.objects.filter(resource_type="membership", type="PERMISSION_CHANGE").get()
    assert event.changes["groups_sync"]["source"] == "sso:x"
    assert AuditEvent.objects.filter(type="ROLE_ASSIGNED", changes__role="analyst").exists()
    # nothing changes: nothing recorded
    membership_groups_sync(membership=member, groups={"lab-analysts"}, source="sso:x")
    assert (
        AuditEvent.objects.filter(type="PERMISSION_CHANGE", resource_type="membership").count() == 1
    )


def test_default_roles_and_a_full_role_is_reported_not_raised(mapped):
    role = role_get(tenant=mapped, slug="approver")
    role.max_members = 1
    role.save()
    first, second = make_member(mapped, roles=[]), make_member(mapped, roles=[])
    membership_groups_sync(membership=first, groups={"qa"}, source="scim")
    changes = membership_groups_sync(
        membership=second, groups={"qa"}, source="scim", default_roles=["viewer"]
    )
    assert set(changes.added) == {"analyst", "viewer"}
    assert changes.refused == (("approver", "role_full"),)
    assert roles_of(second) == {"analyst", "viewer"}


def test_the_last_admin_is_not_demoted_by_a_sync(tenant):
    group_mapping_set(tenant=tenant, mapping=[{"group": "admins", "roles": ["admin"]}])
    only = make_member(tenant, roles=[])
    membership_groups_sync(membership=only, groups={"admins"}, source="sso:x")
    changes = membership_groups_sync(membership=only, groups=set(), source="sso:x")
    assert changes.refused == (("admin", "last_admin"),)
    assert "admin" in roles_of(only)
    role_assign(
        membership=make_member(tenant, roles=[]), role=role_get(tenant=tenant, slug="admin")
    )
    assert membership_groups_sync(membership=only, groups=set(), source="sso:x").removed == (
        "admin",
    )


def test_no_one_maps_a_group_to_a_role_they_do_not_hold(mapped):
    manager = make_member(mapped, roles=["viewer"])
    with pytest.raises(PermissionDenied) as err:
        group_mapping_set(
            tenant=mapped, mapping=[{"group": "x", "roles": ["approver"]}], by=manager
        )
    assert err.value.code == "not_held"
    admin = make_member(mapped, roles=["admin"])
    state = group_mapping_set(
        tenant=mapped, mapping=[{"group": "x", "roles": ["approver"]}], by=admin
    )
    assert state == [{"group": "x", "roles": ["approver"]}]


@pytest.mark.parametrize(
    "mapping",
    [
        "qa",
        [{"group": "", "roles": []}],
        [{"group": "a", "roles": ["nope"]}],
        [{"group": "a", "roles": []}, {"group": "a", "roles": []}],
        [{"group": "a"}],
        [{"group": "x" * 300, "roles": []}],
    ],
)
def test_bad_mappings_are_refused(tenant, mapping):
    with pytest.raises(GroupMappingInvalid):
        group_mapping_set(tenant=tenant, mapping=mapping)


def test_another_tenants_role_cannot_be_mapped(tenant, other_tenant):
    make_role(other_tenant, "secret", allow("x:read"))
    with pytest.raises(GroupMappingInvalid):
        group_mapping_set(tenant=tenant, mapping=[{"group": "g", "roles": ["secret"]}])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_syncs_of_one_member_agree():
    assert connection.vendor == "postgresql"
    tenant = make_tenant("sync-race")
    make_role(tenant, "analyst", allow("sample:read"))
    group_mapping_set(tenant=tenant, mapping=[{"group": "g", "roles": ["analyst"]}])
    member = make_member(tenant, roles=[])
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def sync(source):
        try:
            barrier.wait()
            membership_groups_sync(membership=member, groups={"g"}, source=source)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sync, args=(f"s{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert mapped_roles(membership=member) == {"analyst": ["s0", "s1", "s2", "s3"]}
    assert roles_of(member) == {"analyst"}
