"""Whose identity a provisioned user is: verified domains vouch, other addresses are invited and
stay invited through suspension and reactivation; a tenant's attribute mapping feeds policy."""

from __future__ import annotations

from tessera.directory.domains import domain_approve, domain_claim
from tessera.scim.models import ScimAttributeMap
from tessera.tenancy.models import Invitation, Membership, MembershipStatus
from tests.factories import make_member, make_tenant
from tests.scim.conftest import ENTERPRISE, patch_ops, user_payload


def test_an_existing_identity_in_a_verified_domain_is_active_and_managed_here(scim, scim_tenant):
    make_member(make_tenant("globex"), "eve@corp.example.com")
    domain_approve(domain=domain_claim(tenant=scim_tenant, domain="corp.example.com"))
    created = scim.post("/Users", user_payload("eve@corp.example.com"))
    assert created.status_code == 201
    membership = Membership.objects.get(tenant=scim_tenant, user__email="eve@corp.example.com")
    assert membership.status == MembershipStatus.ACTIVE
    assert not Invitation.objects.filter(membership=membership).exists()
    assert membership.user.managed_by_tenant_id == scim_tenant.pk


def test_a_domain_only_claimed_vouches_for_nothing(scim, scim_tenant):
    make_member(make_tenant("globex"), "eve@corp.example.com")
    domain_claim(tenant=scim_tenant, domain="corp.example.com")  # not verified
    scim.post("/Users", user_payload("eve@corp.example.com"))
    membership = Membership.objects.get(tenant=scim_tenant, user__email="eve@corp.example.com")
    assert membership.status == MembershipStatus.INVITED


def test_a_domain_verified_by_another_tenant_vouches_for_nothing_here(scim, scim_tenant):
    globex = make_tenant("globex")
    make_member(globex, "eve@corp.example.com")
    domain_approve(domain=domain_claim(tenant=globex, domain="corp.example.com"))
    scim.post("/Users", user_payload("eve@corp.example.com"))
    membership = Membership.objects.get(tenant=scim_tenant, user__email="eve@corp.example.com")
    assert membership.status == MembershipStatus.INVITED


def test_an_invitation_survives_suspension_and_reactivation(scim, scim_tenant):
    make_member(make_tenant("globex"), "guest@example.com")
    user = scim.post("/Users", user_payload("guest@example.com")).json()
    path = f"/Users/{user['id']}"
    membership = Membership.objects.get(tenant=scim_tenant, user_id=user["id"])
    first = Invitation.objects.get(membership=membership)
    off = scim.patch(path, patch_ops({"op": "replace", "path": "active", "value": False}))
    assert off.json()["active"] is False
    first.refresh_from_db()
    assert first.revoked_at is not None
    on = scim.patch(path, patch_ops({"op": "replace", "path": "active", "value": True}))
    assert on.status_code == 200
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.INVITED  # consent still needed
    assert Invitation.objects.filter(membership=membership, revoked_at__isnull=True).count() == 1


def test_the_tenants_attribute_mapping_fills_membership_attributes(scim, scim_tenant):
    ScimAttributeMap.objects.create(
        tenant=scim_tenant, scim_attribute=f"{ENTERPRISE}:division", membership_attribute="division"
    )
    ScimAttributeMap.objects.create(
        tenant=scim_tenant, scim_attribute="preferredLanguage", membership_attribute="language"
    )
    user = scim.post(
        "/Users",
        user_payload("m@example.com", preferredLanguage="de", **{ENTERPRISE: {"division": "Labs"}}),
    ).json()
    membership = Membership.objects.get(tenant=scim_tenant, user_id=user["id"])
    assert membership.attributes == {"division": "Labs", "language": "de"}
    scim.patch(
        f"/Users/{user['id']}", patch_ops({"op": "remove", "path": f"{ENTERPRISE}:division"})
    )
    membership.refresh_from_db()
    assert membership.attributes == {"language": "de"}
