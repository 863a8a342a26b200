"""SCIM Groups: directory groups pushed into the tenant, their members memberships of it.

A group's members receive the roles the tenant's group → role mapping names for its
displayName (tessera.directory, the mapping SSO groups use too: one directory group means one
thing however it arrives); leaving the group, or its deletion, takes them away again — never a
role given by hand.

Okta's Group Push creates a group (POST) then changes its members by PATCH add/remove; Entra ID
changes memberships only by PATCH. Every change is one audit event with the credential as actor,
naming the members added and removed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from tessera.audit.models import AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.directory.groups import membership_groups_sync
from tessera.scim.errors import (
    ScimInvalidValue,
    ScimUniqueness,
)
from tessera.scim.filters import Attribute, related_exists
from tessera.scim.messages import patch_apply
from tessera.scim.models import ScimGroup, ScimGroupMember
from tessera.scim.resources import ScimGroupModel
from tessera.scim.user_resource import etag_of, version_check
from tessera.tenancy.models import Membership, Tenant

SYNC_SOURCE = "scim"
GROUP_ATTRIBUTES: dict[str, Attribute] = {
    "id": Attribute("uuid", "id"),
    "displayname": Attribute("itext", "display_name"),
    "externalid": Attribute("exact", "external_id"),
    "meta.created": Attribute("datetime", "created_at"),
    "meta.lastmodified": Attribute("datetime", "updated_at"),
    "members": Attribute(
        "sub",
        related=related_exists(ScimGroupMember.objects.all(), "group_id"),
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
        ScimGroupMember.objects.filter(group=group)
        .select_related("membership")
        .order_by("membership__created_at", "membership__id")
    )
    body: dict[str, Any] = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": str(group.pk),
        "displayName": group.display_name,
    }
    if group.external_id:
        body["externalId"] = group.external_id
    listed = []
    for member in members:
        user_id = member.membership.user_id
        entry = {"value": str(user_id), "$ref": f"{location_base}/Users/{user_id}", "type": "User"}
        if member.display:
            entry["display"] = member.display
        listed.append(entry)
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
    members: dict[str, str]  # user id → display


def group_wish(resource: ScimGroupModel) -> GroupWish:
    name = (resource.display_name or "").strip()
    if not name or len(name) > 255:
        raise ScimInvalidValue("displayName is required (1 to 255 characters)")
    members: dict[str, str] = {}
    for member in resource.members or []:
        if member.type not in (None, "User"):
            raise ScimInvalidValue("Only users can be members of a group here")
        value = str(member.value or "")
        try:
            value = str(uuid.UUID(value))
        except ValueError:
            pass  # refused by _memberships, naming it
        members[value] = (member.display or "").strip()[:255]
    return GroupWish(name, resource.external_id or None, members)


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
    wanted = {m.user_id: m for m in _memberships(group.tenant, list(wish.members))}
    before_name = group.display_name
    group.display_name = wish.display_name
    group.external_id = wish.external_id
    try:
        with transaction.atomic():
            group.save()
    except IntegrityError:
        raise ScimUniqueness(
            f"Another group of this tenant has displayName {wish.display_name!r} or this externalId"
        ) from None
    current = {
        row.membership.user_id: row
        for row in ScimGroupMember.objects.filter(group=group).select_related("membership")
    }
    added = [m for user_id, m in wanted.items() if user_id not in current]
    removed = [row for user_id, row in current.items() if user_id not in wanted]
    ScimGroupMember.objects.filter(pk__in=[row.pk for row in removed]).delete()
    ScimGroupMember.objects.bulk_create(
        ScimGroupMember(group=group, membership=m, display=wish.members[str(m.user_id)])
        for m in added
    )
    for user_id, row in current.items():
        display = wish.members.get(str(user_id))
        if user_id in wanted and display is not None and display != row.display:
            ScimGroupMember.objects.filter(pk=row.pk).update(display=display)
    renamed = not created and before_name != group.display_name
    affected = [m.pk for m in added] + [row.membership_id for row in removed]
    if renamed:
        affected += [row.membership_id for row in current.values() if row not in removed]
    if created or added or removed or renamed:
        audit_record(
            type=AuditEventType.SCIM_GROUP_CREATED
            if created
            else AuditEventType.SCIM_GROUP_UPDATED,
            actor=actor,
            tenant_id=group.tenant_id,
            resource_type="scim_group",
            resource_id=group.pk,
            changes={
                "display_name": group.display_name,
                "added": [str(m.user_id) for m in added],
                "removed": [str(row.membership.user_id) for row in removed],
            },
        )
    groups_sync(membership_ids=affected, actor=actor)
    return group


def groups_sync(*, membership_ids: list, actor: Actor) -> None:
    """Give each member the roles its directory groups map to, and take those of groups it left
    (tessera.directory: the same mapping as SSO groups, source `scim`)."""
    for membership in Membership.objects.filter(pk__in=membership_ids).select_related("tenant"):
        names = ScimGroup.objects.filter(memberships__membership=membership).values_list(
            "display_name", flat=True
        )
        membership_groups_sync(
            membership=membership, groups=list(names), source=SYNC_SOURCE, actor=actor
        )


def scim_group_create(*, tenant: Tenant, resource: ScimGroupModel, actor: Actor) -> ScimGroup:
    wish = group_wish(resource)
    with transaction.atomic():
        group = ScimGroup(tenant=tenant)
        return _write(group=group, wish=wish, actor=actor, created=True)


def _locked(group: ScimGroup, *, location_base: str, if_match: str | None) -> ScimGroup:
    """The group's row locked for this transaction, re-read; 412 on a stale `If-Match`."""
    fresh = ScimGroup.objects.select_for_update().select_related("tenant").get(pk=group.pk)
    version_check(if_match, group_body(fresh, location_base=location_base)["meta"]["version"])
    return fresh


def scim_group_replace(
    *,
    group: ScimGroup,
    resource: ScimGroupModel,
    actor: Actor,
    location_base: str,
    if_match: str | None = None,
) -> ScimGroup:
    with transaction.atomic():
        group = _locked(group, location_base=location_base, if_match=if_match)
        return _write(group=group, wish=group_wish(resource), actor=actor, created=False)


def _member_removals(body: Mapping[str, Any]) -> dict[str, Any]:
    """Entra ID removes members as `{"op": "Remove", "path": "members", "value": [{"value":
    "<id>", "$ref": null}]}`: each listed member becomes a `members[value eq "<id>"]` removal,
    whatever else the entry carries."""
    operations = body.get("Operations")
    if not isinstance(operations, list):
        return dict(body)
    fixed: list[Any] = []
    for operation in operations:
        value = operation.get("value") if isinstance(operation, dict) else None
        if (
            isinstance(operation, dict)
            and str(operation.get("op", "")).lower() == "remove"
            and str(operation.get("path", "")).lower() == "members"
            and isinstance(value, list)
            and all(isinstance(v, dict) and isinstance(v.get("value"), str) for v in value)
        ):
            fixed.extend(
                {"op": "remove", "path": f"members[value eq {json.dumps(v['value'])}]"}
                for v in value
            )
        else:
            fixed.append(operation)
    return {**body, "Operations": fixed}


def scim_group_patch(
    *,
    group: ScimGroup,
    body: Mapping[str, Any],
    location_base: str,
    actor: Actor,
    if_match: str | None = None,
) -> ScimGroup:
    with transaction.atomic():
        group = _locked(group, location_base=location_base, if_match=if_match)
        current = patch_apply(
            ScimGroupModel, _member_removals(body), group_body(group, location_base=location_base)
        )
        return _write(group=group, wish=group_wish(current), actor=actor, created=False)


def scim_group_delete(
    *, group: ScimGroup, actor: Actor, location_base: str, if_match: str | None = None
) -> None:
    with transaction.atomic():
        group = _locked(group, location_base=location_base, if_match=if_match)
        former = list(group.members.values_list("pk", "user_id"))
        members = [str(user_id) for _, user_id in former]
        audit_record(
            type=AuditEventType.SCIM_GROUP_DELETED,
            actor=actor,
            tenant_id=group.tenant_id,
            resource_type="scim_group",
            resource_id=group.pk,
            changes={"display_name": group.display_name, "removed": members},
        )
        group.delete()
        groups_sync(membership_ids=[pk for pk, _ in former], actor=actor)
