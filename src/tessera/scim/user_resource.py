"""A member as a SCIM User, and a SCIM User as the changes it asks of a member.

Tessera's fields are authoritative where it has one: `id` (the global user id, as in
/api/v1/users/{id}), `userName` (the email), `active` (the membership is not suspended;
shown while the directory manages it, i.e. once it set it),
`externalId`, `title` (job title) and, in the enterprise extension, `department`,
`employeeNumber` (employee id), `costCenter` and `manager` (the manager's user id). What the
directory sends beyond them (name, phone numbers, addresses, …) is kept as sent in the member's
SCIM document and returned as it was sent; `name` also fills the profile of an identity the tenant
manages. A per-tenant mapping (`ScimAttributeMap`) copies further string attributes into the
membership's `attributes`, where policy conditions read them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from scim2_models import Context, SCIMException

from tessera.scim.errors import ScimInvalidValue, ScimPreconditionFailed
from tessera.scim.models import ScimAttributeMap, ScimUser
from tessera.scim.resources import ENTERPRISE_URN, EnterpriseUser, ScimUserModel
from tessera.tenancy.models import Membership, MembershipStatus

# attributes never kept in the document: Tessera's own, write-only, or server-assigned
_NOT_KEPT = ("id", "meta", "password", "groups", "schemas", "userName", "externalId")
_ENTERPRISE_OWN = ("department", "employeeNumber", "costCenter", "manager")


def etag_of(body: dict[str, Any]) -> str:
    """A weak ETag over the resource's content (everything but `meta`)."""
    content = {k: v for k, v in body.items() if k != "meta"}
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()
    return f'W/"{digest[:20]}"'


def version_check(if_match: str | None, current: str) -> None:
    """RFC 7644 §3.14: a write naming a version that is no longer current answers 412."""
    if not if_match:
        return
    candidates = [w.strip() for w in if_match.split(",")]
    if "*" in candidates or current in candidates:
        return
    raise ScimPreconditionFailed("The resource changed since that version (If-Match)")


@dataclass(frozen=True, slots=True)
class UserRecord:
    """What a User resource shows of a member: read from a `Membership` (`user_record`) or
    straight from the columns by the single-user lookup (`tessera.scim.lookup`)."""

    user_id: Any
    email: str
    first_name: str
    last_name: str
    status: str
    job_title: str
    department: str
    employee_id: str | None
    cost_center: str
    created_at: datetime
    updated_at: datetime
    manager_user_id: Any
    # the directory's row (externalId, document as sent), None for a member it never wrote
    scim: tuple[str | None, dict[str, Any]] | None
    # (id, displayName) of the directory groups the member is in, in the groups' order
    groups: list[tuple[Any, str]]


def user_record(membership: Membership) -> UserRecord:
    user = membership.user
    try:
        row: ScimUser | None = membership.scim
    except ScimUser.DoesNotExist:
        row = None
    manager = membership.manager
    return UserRecord(
        user_id=user.pk,
        email=user.email,
        first_name=user.first_name,
        last_name=user.last_name,
        status=membership.status,
        job_title=membership.job_title,
        department=membership.department,
        employee_id=membership.employee_id,
        cost_center=membership.cost_center,
        created_at=membership.created_at,
        updated_at=membership.updated_at,
        manager_user_id=manager.user_id if manager is not None else None,
        scim=(row.external_id, row.document) if row is not None else None,
        groups=[(g.pk, g.display_name) for g in membership.scim_groups.all()],
    )


def user_body(membership: Membership, *, location_base: str) -> dict[str, Any]:
    """The member as a SCIM User (JSON, all attributes, `meta` with version and location)."""
    return record_body(user_record(membership), location_base=location_base)


def record_body(record: UserRecord, *, location_base: str) -> dict[str, Any]:
    """A member's record as a SCIM User (the body `user_body` answers)."""
    body: dict[str, Any] = dict(record.scim[1]) if record.scim is not None else {}
    body["schemas"] = ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE_URN]
    body["id"] = str(record.user_id)
    body["userName"] = record.email
    suspended = record.status == MembershipStatus.SUSPENDED
    if record.scim is None:
        # a member the directory never wrote: what Tessera knows of the person
        body["active"] = not suspended
        shown = f"{record.first_name} {record.last_name}".strip()
        if shown:
            body["displayName"] = shown
            body["name"] = {
                k: v
                for k, v in (("givenName", record.first_name), ("familyName", record.last_name))
                if v
            }
        body["emails"] = [{"value": record.email, "type": "work", "primary": True}]
    else:
        # the directory's own document; `active` is shown once the directory set it (removing
        # it leaves the status as it is and stops showing it)
        if "active" in body:
            body["active"] = not suspended
        if record.scim[0]:
            body["externalId"] = record.scim[0]
    if record.job_title:
        body["title"] = record.job_title
    else:
        body.pop("title", None)
    enterprise = dict(body.get(ENTERPRISE_URN) or {})
    for key in _ENTERPRISE_OWN:
        enterprise.pop(key, None)
    if record.department:
        enterprise["department"] = record.department
    if record.employee_id:
        enterprise["employeeNumber"] = record.employee_id
    if record.cost_center:
        enterprise["costCenter"] = record.cost_center
    if record.manager_user_id is not None:
        enterprise["manager"] = {
            "value": str(record.manager_user_id),
            "$ref": f"{location_base}/Users/{record.manager_user_id}",
        }
    if enterprise:
        body[ENTERPRISE_URN] = enterprise
    else:
        body.pop(ENTERPRISE_URN, None)
        body["schemas"] = body["schemas"][:1]
    groups = [
        {"value": str(pk), "display": name, "$ref": f"{location_base}/Groups/{pk}"}
        for pk, name in record.groups
    ]
    if groups:
        body["groups"] = groups
    body["meta"] = {
        "resourceType": "User",
        "created": record.created_at.isoformat(),
        "lastModified": record.updated_at.isoformat(),
        "location": f"{location_base}/Users/{record.user_id}",
    }
    body["meta"]["version"] = etag_of(body)
    return body


@dataclass(frozen=True, slots=True)
class UserWish:
    """What a SCIM User asks of the member, in Tessera's terms."""

    email: str
    active: bool | None
    external_id: str | None
    display_name: str
    first_name: str
    last_name: str
    membership: dict[str, Any]
    manager_id: str | None
    attributes: dict[str, Any]
    document: dict[str, Any]
    emails: list[tuple[str, str, bool]]


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def user_wish(resource: ScimUserModel, *, mappings: list[ScimAttributeMap]) -> UserWish:
    """Split a validated SCIM User into Tessera's fields and the document kept as sent."""
    if not resource.user_name:
        raise ScimInvalidValue("userName is required (the person's email address)")
    dumped = resource.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
    document = {k: v for k, v in dumped.items() if k not in _NOT_KEPT}
    document.pop("active", None)
    if resource.active is not None:
        document["active"] = True  # that the directory set it; the status says which value
    enterprise = resource[EnterpriseUser] if ENTERPRISE_URN in dumped else None
    if isinstance(document.get(ENTERPRISE_URN), dict):
        kept = {k: v for k, v in document[ENTERPRISE_URN].items() if k not in _ENTERPRISE_OWN}
        if kept:
            document[ENTERPRISE_URN] = kept
        else:
            document.pop(ENTERPRISE_URN)
    document.pop("title", None)
    membership: dict[str, Any] = {"job_title": _text(resource.title)}
    manager_id = None
    if enterprise is not None:
        membership["department"] = _text(enterprise.department)
        membership["employee_id"] = _text(enterprise.employee_number) or None
        membership["cost_center"] = _text(enterprise.cost_center)
        manager_id = enterprise.manager.value if enterprise.manager else None
    else:
        membership.update(department="", employee_id=None, cost_center="")
    attributes: dict[str, Any] = {}
    for mapping in mappings:
        try:
            value = resource[mapping.scim_attribute]
        except (SCIMException, KeyError, ValueError, AttributeError):
            value = None
        if isinstance(value, str | int | bool):
            attributes[mapping.membership_attribute] = value
    emails = [
        (_text(e.value).lower(), _text(e.type)[:32], bool(e.primary))
        for e in resource.emails or []
        if _text(e.value)
    ]
    name = resource.name
    return UserWish(
        email=resource.user_name,
        active=resource.active,
        external_id=resource.external_id or None,
        display_name=_text(resource.display_name)[:255],
        first_name=_text(name.given_name if name else None)[:150],
        last_name=_text(name.family_name if name else None)[:150],
        membership=membership,
        manager_id=manager_id,
        attributes=attributes,
        document=document,
        emails=emails,
    )
