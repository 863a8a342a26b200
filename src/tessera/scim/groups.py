"""SCIM Groups: directory groups pushed into the tenant, their members memberships of it.

Okta's Group Push creates a group (POST) then changes its members by PATCH add/remove; Entra ID
changes memberships only by PATCH. Every change is one audit event with the credential as actor,
naming the members added and removed.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from pydantic import ValidationError
from scim2_models import Context, PatchOp, SCIMException

from tessera.audit.models import AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.scim.errors import (
    ScimInvalidValue,
    ScimUniqueness,
    scim_error_for,
    scim_error_from_validation,
)
from tessera.scim.filters import Attribute, related_exists
from tessera.scim.models import ScimGroup
from tessera.scim.resources import POLICY, ScimGroupModel
from tessera.scim.user_resource import etag_of
from tessera.tenancy.models import Membership, Tenant

GROUP_ATTRIBUTES: dict[str, Attribute] = {
    "id": Attribute("uuid", "id"),
    "displayname": Attribute("itext", "display_name"),
    "externalid": Attribute("exact", "external_id"),
    "meta.created": Attribute("datetime", "created_at"),
    "meta.lastmodified": Attribute("datetime", "updated_at"),
    "members": Attribute(
        "sub",
        related=related_exists(ScimGroup.members.through.objects.all(), "scimgroup_id"),
        fields={"value": Attribute("uuid", "membership__user_id")},
    ),
}


def scim_groups(*, tenant: Tenant) -> QuerySet[ScimGroup]:
    return ScimGroup.objects.filter(tenant=tenant).order_by("created_at", "id")


def scim_group_get(*, tenant: Tenant, group_id: str) -> ScimGroup | None:
    try:
        uuid.UUID(str(group_id))
    except ValueError:
        return None
    return scim_groups(tenant=tenant).filter(pk=group_id).first()


def group_body(group: ScimGroup, *, location_base: str) -> dict[str, Any]:
    members = (
        group.members.select_related("user").order_by("created_at", "id").only("user__email")
    )
    body: dict[str, Any] = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": str(group.pk),
        "displayName": group.display_name,
    }
    if group.external_id:
        body["externalId"] = group.external_id
    listed = [
        {
            "value": str(m.user_id),
            "$ref": f"{location_base}/Users/{m.user_id}",
            "type": "User",
            "display": m.user.email,
        }
        for m in members
    ]
    if listed:
        body["members"] = listed
    body["meta"] = {
        "resourceType": "Group",
        "created": group.created_at.isoformat(),
        "lastModified": group.updated_at.isoformat(),
        "location": f"{location_base}/Groups/{group.pk}",
    }
    body["meta"]["version"] = etag_of(body)
    return body


@dataclass(frozen=True, slots=True)
class GroupWish:
    display_name: str
    external_id: str | None
    member_ids: list[str]


def group_wish(resource: ScimGroupModel) -> GroupWish:
    name = (resource.display_name or "").strip()
    if not name or len(name) > 255:
        raise ScimInvalidValue("displayName is required (1 to 255 characters)")
    ids = []
    for member in resource.members or []:
        if member.type not in (None, "User"):
            raise ScimInvalidValue("Only users can be members of a group here")
        ids.append(str(member.value or ""))
    return GroupWish(name, resource.external_id or None, list(dict.fromkeys(ids)))


def _memberships(tenant: Tenant, ids: list[str]) -> list[Membership]:
    valid = []
    for value in ids:
        try:
            valid.append(uuid.UUID(value))
        except ValueError:
            raise ScimInvalidValue(f"{value!r} is not the id of a user of this tenant") from None
    found = list(
        Membership.objects.filter(tenant=tenant, user_id__in=valid, user__is_service_account=False)
    )
    if len(found) != len(valid):
        known = {m.user_id for m in found}
        missing = next(str(v) for v in valid if v not in known)
        raise ScimInvalidValue(f"{missing} is not the id of a user of this tenant")
    return found


def _write(*, group: ScimGroup, wish: GroupWish, actor: Actor, created: bool) -> ScimGroup:
    wanted = _memberships(group.tenant, wish.member_ids)
    before_name = group.display_name
    group.display_name = wish.display_name
    group.external_id = wish.external_id
    try:
        with transaction.atomic():
            group.save()
    except IntegrityError:
        raise ScimUniqueness(
            f"Another group of this tenant has displayName {wish.display_name!r} "
            "or this externalId"
        ) from None
    current = set(group.members.values_list("pk", flat=True))
    wanted_ids = {m.pk for m in wanted}
    added = [m for m in wanted if m.pk not in current]
    removed = current - wanted_ids
    if added:
        group.members.add(*added)
    if removed:
        group.members.remove(*removed)
    removed_users = list(
        Membership.objects.filter(pk__in=removed).values_list("user_id", flat=True)
    )
    if created or added or removed or before_name != group.display_name:
        audit_record(
            type=AuditEventType.SCIM_GROUP_CREATED if created else AuditEventType.SCIM_GROUP_UPDATED,
            actor=actor,
            tenant_id=group.tenant_id,
            resource_type="scim_group",
            resource_id=group.pk,
            changes={
                "display_name": group.display_name,
                "added": [str(m.user_id) for m in added],
                "removed": [str(u) for u in removed_users],
            },
        )
    return group


def scim_group_create(*, tenant: Tenant, resource: ScimGroupModel, actor: Actor) -> ScimGroup:
    wish = group_wish(resource)
    with transaction.atomic():
        group = ScimGroup(tenant=tenant)
        return _write(group=group, wish=wish, actor=actor, created=True)


def scim_group_replace(*, group: ScimGroup, resource: ScimGroupModel, actor: Actor) -> ScimGroup:
    with transaction.atomic():
        ScimGroup.objects.select_for_update().filter(pk=group.pk).first()
        return _write(group=group, wish=group_wish(resource), actor=actor, created=False)


def scim_group_patch(
    *, group: ScimGroup, body: Mapping[str, Any], location_base: str, actor: Actor
) -> ScimGroup:
    with transaction.atomic():
        ScimGroup.objects.select_for_update().filter(pk=group.pk).first()
        try:
            patch = PatchOp[ScimGroupModel].model_validate(
                dict(body), scim_ctx=Context.RESOURCE_PATCH_REQUEST, scim_policy=POLICY
            )
            current = ScimGroupModel.model_validate(group_body(group, location_base=location_base))
            with POLICY:
                patch.patch(current)
        except SCIMException as exc:
            raise scim_error_for(
                scim_type=exc.scim_type, detail=exc.detail, status=exc.status
            ) from None
        except ValidationError as exc:
            raise scim_error_from_validation(exc) from None
        return _write(group=group, wish=group_wish(current), actor=actor, created=False)


def scim_group_delete(*, group: ScimGroup, actor: Actor) -> None:
    with transaction.atomic():
        members = [str(u) for u in group.members.values_list("user_id", flat=True)]
        audit_record(
            type=AuditEventType.SCIM_GROUP_DELETED,
            actor=actor,
            tenant_id=group.tenant_id,
            resource_type="scim_group",
            resource_id=group.pk,
            changes={"display_name": group.display_name, "removed": members},
        )
        group.delete()
