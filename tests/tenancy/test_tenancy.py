import pytest
from tests.factories import make_member, make_user

from tessera.errors import ValidationFailed
from tessera.tenancy.errors import ManagerInvalid, MembershipExists
from tessera.tenancy.models import Tenant
from tessera.tenancy.services import membership_create, membership_set_manager, tenant_create
from tessera.tenancy.tenant_settings import parse_tenant_settings


def test_new_tenant_gets_default_settings_and_builtin_roles(db):
    tenant = tenant_create(slug="lab", name="Lab")
    assert tenant.settings["password"]["min_length"] == 15
    assert tenant.settings["lockout"]["max_failures"] == 5
    assert tenant.settings["sessions"]["max_sessions"] == 5
    assert {r.slug for r in tenant.roles.all()} == {"admin", "manager", "member", "viewer"}


def test_settings_are_validated_with_every_error_listed():
    with pytest.raises(ValidationFailed) as err:
        parse_tenant_settings({"password": {"min_length": 4}, "lockout": {"max_failures": 0}})
    fields = {e["field"] for e in err.value.errors}
    assert fields == {"settings.password.min_length", "settings.lockout.max_failures"}


def test_unknown_settings_keys_are_refused():
    with pytest.raises(ValidationFailed):
        parse_tenant_settings({"pasword": {}})


def test_bad_slug_is_refused(db):
    with pytest.raises(ValidationFailed):
        tenant_create(slug="Not A Slug!", name="x")


def test_one_person_can_be_member_of_many_tenants_with_different_attributes(tenant, other_tenant):
    person = make_user("multi@example.test")
    a = membership_create(tenant=tenant, user=person, department="QA")
    b = membership_create(tenant=other_tenant, user=person, department="Sales")
    assert {a.department, b.department} == {"QA", "Sales"}


def test_duplicate_membership_is_a_conflict(tenant, user):
    membership_create(tenant=tenant, user=user)
    with pytest.raises(MembershipExists):
        membership_create(tenant=tenant, user=user)


def test_employee_id_is_unique_within_a_tenant_only(tenant, other_tenant):
    make_member(tenant, "e1@example.test", employee_id="E-1")
    make_member(other_tenant, "e2@example.test", employee_id="E-1")
    with pytest.raises(Exception) as err:
        make_member(tenant, "e3@example.test", employee_id="E-1")
    assert err.value.status == 409


def test_manager_cycles_are_refused(tenant):
    boss = make_member(tenant, "boss@example.test")
    mid = make_member(tenant, "mid@example.test", manager=boss)
    low = make_member(tenant, "low@example.test", manager=mid)
    with pytest.raises(ManagerInvalid):
        membership_set_manager(membership=boss, manager=low)
    with pytest.raises(ManagerInvalid):
        membership_set_manager(membership=boss, manager=boss)


def test_cross_tenant_managers_are_refused(tenant, other_tenant):
    outsider = make_member(other_tenant, "out@example.test")
    with pytest.raises(ManagerInvalid):
        make_member(tenant, "in@example.test", manager=outsider)


def test_manager_change_bumps_the_tenant_policy_version(tenant):
    boss = make_member(tenant, "boss2@example.test")
    worker = make_member(tenant, "worker@example.test")
    before = Tenant.objects.get(pk=tenant.pk).policy_version
    membership_set_manager(membership=worker, manager=boss)
    assert Tenant.objects.get(pk=tenant.pk).policy_version == before + 1
