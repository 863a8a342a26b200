"""Every SCIM change is an audit event with the credential as its actor, and the threat rules
see a directory (or a stolen SCIM token) deprovisioning many members at once."""

from __future__ import annotations

from tessera.audit.models import ActorType, AuditEvent, AuditEventType
from tessera.authn.threats import MASS_DEPROVISIONING_COUNT
from tessera.scim.models import ScimToken
from tests.scim.conftest import patch_ops, user_payload


def test_each_change_names_the_credential(scim, scim_tenant):
    token = ScimToken.objects.get(tenant=scim_tenant)
    user = scim.post("/Users", user_payload("a@example.com")).json()
    scim.patch(f"/Users/{user['id']}", patch_ops({"op": "replace", "path": "title", "value": "T"}))
    group = scim.post("/Groups", {"displayName": "G", "members": [{"value": user["id"]}]}).json()
    scim.delete(f"/Groups/{group['id']}")
    scim.delete(f"/Users/{user['id']}")
    kinds = [
        AuditEventType.USER_CREATED,
        AuditEventType.PROFILE_UPDATE,
        AuditEventType.SCIM_GROUP_CREATED,
        AuditEventType.SCIM_GROUP_DELETED,
        AuditEventType.MEMBERSHIP_REMOVED,
    ]
    for kind in kinds:
        event = AuditEvent.objects.filter(type=kind).latest("seq")
        assert event.actor_type == ActorType.SCIM, kind
        assert event.actor_api_key_id == token.pk, kind
        assert event.tenant_id == scim_tenant.pk
    created = AuditEvent.objects.get(type=AuditEventType.SCIM_GROUP_CREATED)
    assert created.changes["added"] == [user["id"]]


def test_mass_deprovisioning_raises_one_alert(scim, scim_tenant):
    ids = [
        scim.post("/Users", user_payload(f"leaver{i}@example.com")).json()["id"]
        for i in range(MASS_DEPROVISIONING_COUNT + 2)
    ]
    for user_id in ids[: MASS_DEPROVISIONING_COUNT - 1]:
        scim.patch(
            f"/Users/{user_id}", patch_ops({"op": "replace", "path": "active", "value": False})
        )
    assert not AuditEvent.objects.filter(type=AuditEventType.SUSPICIOUS_ACTIVITY).exists()
    for user_id in ids[MASS_DEPROVISIONING_COUNT - 1 :]:
        assert scim.delete(f"/Users/{user_id}").status_code == 204
    (alert,) = AuditEvent.objects.filter(type=AuditEventType.SUSPICIOUS_ACTIVITY)
    token = ScimToken.objects.get(tenant=scim_tenant)
    assert alert.changes["rule"] == "mass_deprovisioning"
    assert alert.changes["subject"] == f"credential:{token.pk}"
    assert alert.risk_score == 70
