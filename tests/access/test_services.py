"""Writes of access data: validation, guard rails, version bumps and audit events."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tessera.access.escalation import ensure_actor_holds
from tessera.access.models import Delegation, Grant, Role, RoleAssignment
from tessera.access.selectors import (
    effective_permissions_of,
    membership_role_slugs,
    permission_list,
    role_get,
)
from tessera.access.services.admins import ensure_not_last_admin
from tessera.access.services.assignments import role_assign, role_unassign
from tessera.access.services.delegations import (
    delegation_approve,
    delegation_create,
    delegation_revoke,
    delegations_revoke_given,
)
from tessera.access.services.grants import grant_create, grant_delete
from tessera.access.services.overrides import overrides_set
from tessera.access.services.permissions import permission_create
from tessera.access.services.roles import role_delete, role_update
from tessera.audit.models import AuditEvent
from tessera.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from tessera.tenancy.models import Membership, Tenant
from tests.access.helpers import allow, allowed, deny, give, make_role
from tests.factories import make_member, make_tenant

pytestmark = pytest.mark.django_db


def versions(member) -> tuple[int, int]:
    return (
        Tenant.objects.get(pk=member.tenant_id).policy_version,
        Membership.objects.get(pk=member.pk).version,
    )


def events(tenant, type_: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(tenant_id=tenant.pk, type=type_))


# --- validation ---------------------------------------------------------------------------------


def test_an_unknown_condition_operator_is_refused_naming_it(tenant):
    with pytest.raises(ValidationFailed) as err:
        make_role(
            tenant, "bad", allow("doc:read"), allow("doc:update", condition={"sudo_mode": True})
        )
    assert "sudo_mode" in err.value.detail
    assert err.value.errors[0]["field"] == "rules[1].condition"
    assert not Role.objects.filter(tenant=tenant, slug="bad").exists()


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        (allow("Doc:Read"), "rules[0].permission"),
        (allow("doc"), "rules[0].permission"),
        (allow("doc:read:x"), "rules[0].permission"),
        (allow("*:read"), "rules[0].permission"),
        (allow("d" * 64 + ":" + "r" * 64), "rules[0].permission"),
        ({"effect": "maybe", "permission": "doc:read"}, "rules[0].effect"),
        (allow("doc:read", scope="planet"), "rules[0].scope"),
        (allow("doc:read", condition={"all": []}), "rules[0].condition"),
        (allow("doc:read", condition={"eq": ["subject.nope", 1]}), "rules[0].condition"),
        (allow("doc:read", condition="1 == 1"), "rules[0].condition"),
        (allow("doc:read", fields={"a": {"read": "yes"}}), "rules[0].fields"),
        ({"permission": "doc:read", "effect": "allow", "extra": 1}, "rules[0].extra"),
        ("doc:read", "rules[0].rule"),
    ],
)
def test_malformed_rules_are_refused_with_422(tenant, rule, field):
    with pytest.raises(ValidationFailed) as err:
        make_role(tenant, "bad", rule)
    assert err.value.status == 422
    assert err.value.errors[0]["field"] == field


def test_role_parents_must_exist_and_never_form_a_cycle(tenant):
    a = make_role(tenant, "a", allow("x:read"))
    make_role(tenant, "b", parents=["a"])
    make_role(tenant, "c", parents=["b"])
    with pytest.raises(ValidationFailed) as err:
        role_update(role=a, parents=["c"])
    assert err.value.errors[0]["code"] == "cycle"
    assert "a > c > b > a" in err.value.detail or "cycle" in err.value.detail
    with pytest.raises(ValidationFailed):
        role_update(role=a, parents=["a"])
    with pytest.raises(ValidationFailed):
        make_role(tenant, "d", parents=["nope"])
    assert list(a.parents.all()) == []


def test_another_tenants_role_is_not_a_parent(tenant, other_tenant):
    make_role(other_tenant, "foreign")
    with pytest.raises(ValidationFailed):
        make_role(tenant, "mine", parents=["foreign"])


def test_role_slugs_are_unique_per_tenant(tenant, other_tenant):
    make_role(tenant, "dup")
    make_role(other_tenant, "dup")
    with pytest.raises(Conflict):
        make_role(tenant, "dup")
    with pytest.raises(ValidationFailed):
        make_role(tenant, "Not A Slug!")


# --- roles: versions and audit ------------------------------------------------------------------


def test_role_rule_changes_bump_the_tenant_version_and_are_audited(tenant):
    role = make_role(tenant, "r", allow("doc:read"))
    member = make_member(tenant, roles=[])
    give(member, role)
    assert events(tenant, "ROLE_CREATED")[0].changes["rules"][0]["permission"] == "doc:read"
    assert allowed(member, "doc:read")
    before = versions(member)
    role_update(role=role, rules=[allow("doc:update")])
    assert versions(member)[0] == before[0] + 1
    assert not allowed(member, "doc:read") and allowed(member, "doc:update")
    updated = events(tenant, "ROLE_UPDATED")[0]
    assert updated.changes["before"]["rules"][0]["permission"] == "doc:read"
    assert updated.changes["after"]["rules"][0]["permission"] == "doc:update"


def test_a_rename_does_not_bump_the_tenant_version(tenant):
    role = make_role(tenant, "r", allow("doc:read"))
    before = Tenant.objects.get(pk=tenant.pk).policy_version
    role_update(role=role, name="Renamed", description="d", max_members=3)
    role.refresh_from_db()
    assert role.name == "Renamed" and role.max_members == 3
    assert Tenant.objects.get(pk=tenant.pk).policy_version == before


def test_system_roles_cannot_be_deleted_and_admin_rules_cannot_change(tenant):
    admin = role_get(tenant=tenant, slug="admin")
    with pytest.raises(Conflict) as err:
        role_delete(role=admin)
    assert err.value.status == 409
    with pytest.raises(Conflict):
        role_delete(role=role_get(tenant=tenant, slug="viewer"))
    with pytest.raises(Conflict):
        role_update(role=admin, rules=[allow("doc:read")])


def test_deleting_a_role_removes_it_from_holders_at_once(tenant):
    role = make_role(tenant, "temp", allow("doc:read"))
    member = make_member(tenant, roles=[])
    give(member, role)
    assert allowed(member, "doc:read")
    role_delete(role=role)
    assert not allowed(member, "doc:read")
    assert events(tenant, "ROLE_DELETED")[0].changes["holders"] == 1


def test_assignment_bumps_the_member_version_and_is_audited(tenant):
    role = make_role(tenant, "r", allow("doc:read"))
    member = make_member(tenant, roles=[])
    before = versions(member)
    give(member, role)
    assert versions(member) == (before[0], before[1] + 1)
    assert events(tenant, "ROLE_ASSIGNED")[0].changes["role"] == "r"
    assert membership_role_slugs(membership_id=member.pk, now=timezone.now()) == ["r"]
    role_unassign(membership=member, role=role)
    assert versions(member) == (before[0], before[1] + 2)
    assert events(tenant, "ROLE_REMOVED")[0].changes["role"] == "r"
    assert not allowed(member, "doc:read")
    with pytest.raises(NotFound):
        role_unassign(membership=member, role=role)


def test_assigning_a_role_twice_is_idempotent(tenant):
    role = make_role(tenant, "r")
    member = make_member(tenant, roles=[])
    give(member, role)
    before = versions(member)
    give(member, role)
    assert versions(member) == before
    assert RoleAssignment.objects.filter(membership=member, role=role).count() == 1


def test_another_tenants_role_cannot_be_assigned(tenant, other_tenant):
    role = make_role(other_tenant, "foreign")
    member = make_member(tenant, roles=[])
    with pytest.raises(NotFound):
        give(member, role)


def test_max_members_is_enforced(tenant):
    role = make_role(tenant, "solo", max_members=1)
    give(make_member(tenant, roles=[]), role)
    with pytest.raises(Conflict) as err:
        give(make_member(tenant, roles=[]), role)
    assert err.value.code == "role_full"


def test_an_expired_assignment_frees_its_seat(tenant):
    role = make_role(tenant, "solo", max_members=1)
    first = make_member(tenant, roles=[])
    assignment = give(first, role, expires_at=timezone.now() + timedelta(hours=1))
    RoleAssignment.objects.filter(pk=assignment.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    give(make_member(tenant, roles=[]), role)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_max_members_holds_under_concurrent_assignment():
    assert connection.vendor == "postgresql"
    tenant = make_tenant("race")
    role = make_role(tenant, "limited", max_members=3)
    members = [make_member(tenant, roles=[]) for _ in range(10)]
    barrier = threading.Barrier(len(members))
    outcomes: list[str] = []

    def assign(member):
        try:
            barrier.wait()
            give(member, role)
            outcomes.append("ok")
        except Conflict:
            outcomes.append("full")
        finally:
            connection.close()

    threads = [threading.Thread(target=assign, args=(m,)) for m in members]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["full"] * 7 + ["ok"] * 3
    assert RoleAssignment.objects.filter(role=role).count() == 3


# --- guard rails --------------------------------------------------------------------------------


def test_the_last_active_admin_cannot_lose_the_admin_role(tenant):
    admin_role = role_get(tenant=tenant, slug="admin")
    only = make_member(tenant, roles=["admin"])
    with pytest.raises(Conflict) as err:
        role_unassign(membership=only, role=admin_role)
    assert err.value.code == "last_admin"
    second = make_member(tenant, roles=["admin"])
    role_unassign(membership=only, role=admin_role)
    with pytest.raises(Conflict):
        role_unassign(membership=second, role=admin_role)


def test_a_suspended_admin_does_not_count_as_another_admin(tenant):
    from tessera.tenancy.services import membership_set_status

    only = make_member(tenant, roles=["admin"])
    other = make_member(tenant, roles=["admin"])
    membership_set_status(membership=other, status="suspended")
    with pytest.raises(Conflict):
        ensure_not_last_admin(membership=only)
    ensure_not_last_admin(membership=other)  # not an active admin: nothing to protect


def test_the_last_admin_cannot_be_denied_tessera_permissions_by_override(tenant):
    only = make_member(tenant, roles=["admin"])
    overrides_set(membership=only, rules=[deny("doc:delete")])  # not Tessera's own
    with pytest.raises(Conflict):
        overrides_set(membership=only, rules=[deny("role:*")])
    with pytest.raises(Conflict):
        overrides_set(membership=only, rules=[deny("*:*")])


def test_no_one_grants_a_role_whose_permissions_they_do_not_hold(tenant):
    manager = make_member(tenant, roles=["manager"])
    target = make_member(tenant, roles=[])
    admin_role = role_get(tenant=tenant, slug="admin")
    with pytest.raises(PermissionDenied) as err:
        role_assign(membership=target, role=admin_role, granted_by=manager)
    assert err.value.code == "not_held"
    role_assign(membership=target, role=role_get(tenant=tenant, slug="viewer"), granted_by=manager)


def test_ensure_actor_holds_respects_scope_conditions_and_denies(tenant):
    role = make_role(
        tenant,
        "mixed",
        allow("doc:*"),
        allow("file:read", scope="team"),
        allow("mail:send", condition={"mfa_verified": True}),
        deny("doc:delete"),
    )
    actor = make_member(tenant, roles=[])
    give(actor, role)
    holds = ensure_actor_holds
    holds(actor, ["doc:read", "doc:update"])
    holds(actor, [allow("file:read", scope="own"), allow("file:read", scope="team")])
    holds(actor, [allow("mail:send", condition={"mfa_verified": True})])
    holds(actor, [deny("anything:else")])  # restricting needs nothing
    for wanted in (
        ["doc:delete"],  # denied to the actor
        ["doc:*"],  # overlaps the deny
        [allow("file:read")],  # team does not cover all
        ["mail:send"],  # only held under a condition
        ["x:y"],
    ):
        with pytest.raises(PermissionDenied):
            holds(actor, wanted)


def test_grants_need_the_permission_or_a_grant_on_the_same_object(tenant):
    actor = make_member(tenant, roles=[])
    target = make_member(tenant, roles=[])
    grant_create(
        tenant=tenant, membership=actor, permission="doc:read", resource_type="doc", resource_id="1"
    )
    grant_create(
        tenant=tenant,
        membership=target,
        permission="doc:read",
        resource_type="doc",
        resource_id="1",
        granted_by=actor,
    )
    with pytest.raises(PermissionDenied):
        grant_create(
            tenant=tenant,
            membership=target,
            permission="doc:read",
            resource_type="doc",
            resource_id="2",
            granted_by=actor,
        )


def test_overrides_with_by_need_held_allows(tenant):
    manager = make_member(tenant, roles=["manager"])
    target = make_member(tenant, roles=[])
    overrides_set(membership=target, rules=[allow("user:read")], by=manager)
    with pytest.raises(PermissionDenied):
        overrides_set(membership=target, rules=[allow("role:delete")], by=manager)


# --- overrides, grants --------------------------------------------------------------------------


def test_overrides_bump_the_member_version_and_record_a_permission_change(tenant):
    member = make_member(tenant, roles=["viewer"])
    before = versions(member)
    overrides_set(membership=member, rules=[allow("doc:read"), deny("user:read")])
    assert versions(member)[1] == before[1] + 1
    assert allowed(member, "doc:read") and not allowed(member, "user:read")
    change = events(tenant, "PERMISSION_CHANGE")[0]
    assert [r["permission"] for r in change.changes["overrides"]["after"]] == [
        "doc:read",
        "user:read",
    ]
    overrides_set(membership=member, rules=[])
    assert allowed(member, "user:read")


def test_grants_to_members_bump_the_member_and_grants_to_roles_the_tenant(tenant):
    member = make_member(tenant, roles=["viewer"])
    before = versions(member)
    grant = grant_create(
        tenant=tenant,
        membership=member,
        permission="doc:read",
        resource_type="doc",
        resource_id="9",
    )
    assert versions(member) == (before[0], before[1] + 1)
    role_grant = grant_create(
        tenant=tenant,
        role=role_get(tenant=tenant, slug="viewer"),
        permission="doc:update",
        resource_type="doc",
        resource_id="9",
    )
    assert versions(member) == (before[0] + 1, before[1] + 1)
    assert len(events(tenant, "GRANT_CREATED")) == 2
    grant_delete(grant=grant)
    grant_delete(grant=role_grant)
    assert versions(member) == (before[0] + 2, before[1] + 2)
    assert len(events(tenant, "GRANT_REVOKED")) == 2
    assert not Grant.objects.exists()


@pytest.mark.parametrize(
    "kw",
    [
        {"permission": "doc"},
        {"resource_type": "Doc Type"},
        {"resource_id": ""},
        {"resource_id": "x" * 129},
        {"expires_at": timezone.now() - timedelta(seconds=1)},
    ],
)
def test_bad_grants_are_refused(tenant, kw):
    member = make_member(tenant, roles=[])
    args = {"permission": "doc:read", "resource_type": "doc", "resource_id": "1", **kw}
    with pytest.raises(ValidationFailed):
        grant_create(tenant=tenant, membership=member, **args)


def test_a_grant_needs_exactly_one_subject_of_the_same_tenant(tenant, other_tenant):
    member = make_member(tenant, roles=[])
    args = {"permission": "doc:read", "resource_type": "doc", "resource_id": "1"}
    with pytest.raises(ValidationFailed):
        grant_create(tenant=tenant, **args)
    with pytest.raises(ValidationFailed):
        grant_create(
            tenant=tenant, membership=member, role=role_get(tenant=tenant, slug="viewer"), **args
        )
    with pytest.raises(NotFound):
        grant_create(tenant=other_tenant, membership=member, **args)


# --- delegations --------------------------------------------------------------------------------


def _window(hours: int = 1):
    now = timezone.now()
    return {"starts_at": now, "ends_at": now + timedelta(hours=hours)}


def test_a_delegator_can_only_delegate_what_they_hold(tenant):
    lender = make_member(tenant, roles=["viewer"])
    borrower = make_member(tenant, roles=[])
    with pytest.raises(PermissionDenied):
        delegation_create(
            delegator=lender, delegate=borrower, permissions=["user:create"], **_window()
        )
    with pytest.raises(PermissionDenied):
        delegation_create(
            delegator=lender,
            delegate=borrower,
            role=role_get(tenant=tenant, slug="manager"),
            **_window(),
        )
    delegation = delegation_create(
        delegator=lender, delegate=borrower, permissions=["user:read"], **_window()
    )
    assert delegation.status == "active"
    assert events(tenant, "DELEGATION_CREATED")[0].changes["permissions"] == ["user:read"]


def test_delegations_bump_the_delegate_and_revocation_ends_them_at_once(tenant):
    lender = make_member(tenant, roles=["manager"])
    borrower = make_member(tenant, roles=[])
    before = versions(borrower)
    delegation = delegation_create(
        delegator=lender, delegate=borrower, permissions=["user:create"], **_window()
    )
    assert versions(borrower)[1] == before[1] + 1
    assert allowed(borrower, "user:create")
    delegation_revoke(delegation=delegation)
    assert versions(borrower)[1] == before[1] + 2
    assert not allowed(borrower, "user:create")
    assert events(tenant, "DELEGATION_REVOKED")
    with pytest.raises(Conflict):
        delegation_revoke(delegation=delegation)


def test_delegations_wait_for_approval_when_the_tenant_requires_it(db):
    tenant = make_tenant("strict", delegation={"require_approval": True})
    lender = make_member(tenant, roles=["manager"])
    borrower = make_member(tenant, roles=[])
    approver = make_member(tenant, roles=["manager"])
    delegation = delegation_create(
        delegator=lender, delegate=borrower, permissions=["user:create"], **_window()
    )
    assert delegation.status == "pending"
    assert not allowed(borrower, "user:create")
    with pytest.raises(PermissionDenied):
        delegation_approve(delegation=delegation, approver=lender)
    delegation_approve(delegation=delegation, approver=approver)
    assert Delegation.objects.get(pk=delegation.pk).status == "active"
    assert allowed(borrower, "user:create")
    assert events(tenant, "DELEGATION_APPROVED")
    with pytest.raises(Conflict):
        delegation_approve(delegation=delegation, approver=approver)


@pytest.mark.parametrize(
    "kw",
    [
        {"permissions": ["user:read"], "role": "viewer"},
        {},
        {"permissions": ["not a permission"]},
        {"permissions": ["user:read"], "hours": 24 * 91},
        {"permissions": ["user:read"], "hours": -1},
    ],
)
def test_bad_delegations_are_refused(tenant, kw):
    lender = make_member(tenant, roles=["manager"])
    borrower = make_member(tenant, roles=[])
    window = _window(kw.pop("hours", 1))
    if "role" in kw:
        kw["role"] = role_get(tenant=tenant, slug=kw["role"])
    if window["ends_at"] < window["starts_at"]:
        window["starts_at"] = window["ends_at"] - timedelta(hours=1)
    with pytest.raises(ValidationFailed):
        delegation_create(delegator=lender, delegate=borrower, **kw, **window)


def test_no_one_delegates_to_themselves(tenant):
    lender = make_member(tenant, roles=["manager"])
    with pytest.raises(ValidationFailed):
        delegation_create(delegator=lender, delegate=lender, permissions=["user:read"], **_window())


def test_losing_a_role_ends_its_delegations(tenant):
    role = make_role(tenant, "signer", allow("report:sign"))
    lender = make_member(tenant, roles=[])
    borrower = make_member(tenant, roles=[])
    give(lender, role)
    delegation_create(delegator=lender, delegate=borrower, role=role, **_window())
    assert allowed(borrower, "report:sign")
    role_unassign(membership=lender, role=role)
    assert not allowed(borrower, "report:sign")
    assert Delegation.objects.get().status == "revoked"


def test_delegations_given_can_all_be_revoked(tenant):
    lender = make_member(tenant, roles=["manager"])
    borrowers = [make_member(tenant, roles=[]) for _ in range(2)]
    for borrower in borrowers:
        delegation_create(
            delegator=lender, delegate=borrower, permissions=["user:create"], **_window()
        )
    assert delegations_revoke_given(membership=lender) == 2
    assert not any(allowed(b, "user:create") for b in borrowers)


# --- catalog and selectors ----------------------------------------------------------------------


def test_tenants_add_their_own_permissions(tenant, other_tenant):
    permission_create(tenant=tenant, permission="sample:read", description="Samples")
    names = [p.permission for p in permission_list(tenant=tenant)]
    assert "sample:read" in names and "user:create" in names
    assert "sample:read" not in [p.permission for p in permission_list(tenant=other_tenant)]
    with pytest.raises(Conflict):
        permission_create(tenant=tenant, permission="sample:read")
    with pytest.raises(Conflict):
        permission_create(tenant=tenant, permission="user:create")
    with pytest.raises(ValidationFailed):
        permission_create(tenant=tenant, permission="sample:*")


def test_effective_permissions_name_their_source(tenant):
    make_role(tenant, "base", allow("doc:read"))
    role = make_role(tenant, "child", allow("doc:update"), parents=["base"])
    member = make_member(tenant, roles=[])
    give(member, role)
    overrides_set(membership=member, rules=[deny("doc:delete")])
    entries = effective_permissions_of(membership=member)
    by_perm = {e["permission"]: e for e in entries}
    assert by_perm["doc:read"]["source"]["kind"] == "role"
    assert by_perm["doc:read"]["source"]["path"] == ["child", "base"]
    assert by_perm["doc:delete"]["source"]["kind"] == "override"
    assert by_perm["doc:delete"]["effect"] == "deny"
