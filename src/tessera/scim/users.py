"""SCIM Users: a person's membership in the tenant, created, replaced, patched and removed.

`userName` is the email. Creating goes through the member service (`member_create`): a new
identity is the tenant's; an existing one is invited (the membership grants nothing until the
person accepts) unless its address is in a domain the tenant verified (tessera.directory), whose
owner vouches for it: then the membership is active at once, and an identity whose address
nobody proved becomes the tenant's to manage (tessera.scim.provisioning).

`active: false` is the member suspension service (`member_deactivate`), which revokes every
session, refresh token and API key of the membership in its transaction, so the next request
with any of them fails. DELETE removes the membership (`member_remove`); the
global identity stays. The acting SCIM credential is the audit actor of each change.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from tessera.administration.members import member_create, member_remove, member_update
from tessera.audit.services import Actor
from tessera.errors import TesseraError, ValidationFailed
from tessera.identity.emails import normalize_email
from tessera.scim.errors import (
    ScimInvalidValue,
    ScimUniqueness,
)
from tessera.scim.filters import Attribute, related_exists
from tessera.scim.messages import patch_apply
from tessera.scim.models import ScimAttributeMap, ScimEmail, ScimUser
from tessera.scim.provisioning import (
    identity_manage,
    in_verified_domain,
    membership_resume,
    membership_suspend,
    username_change,
)
from tessera.scim.resources import ENTERPRISE_URN, ScimUserModel
from tessera.scim.user_resource import (
    UserWish,
    user_body,
    user_wish,
    version_check,
)
from tessera.tenancy.models import Membership, MembershipStatus, Tenant


def _suspended(value: bool) -> Q:
    return (
        Q(status=MembershipStatus.SUSPENDED) if not value else ~Q(status=MembershipStatus.SUSPENDED)
    )


USER_ATTRIBUTES: dict[str, Attribute] = {
    "id": Attribute("uuid", "user_id"),
    "username": Attribute("text", "user__email"),
    "externalid": Attribute("exact", "scim__external_id"),
    "displayname": Attribute("itext", "scim__display_name"),
    "title": Attribute("itext", "job_title"),
    "active": Attribute("boolean", boolean=_suspended),
    "meta.created": Attribute("datetime", "created_at"),
    "meta.lastmodified": Attribute("datetime", "updated_at"),
    "emails": Attribute(
        "sub",
        related=related_exists(ScimEmail.objects.all(), "scim_user_id"),
        fields={
            "value": Attribute("text", "value"),
            "type": Attribute("itext", "type"),
            "primary": Attribute("boolean", boolean=lambda v: Q(primary=v)),
        },
    ),
    f"{ENTERPRISE_URN}:department".lower(): Attribute("itext", "department"),
    f"{ENTERPRISE_URN}:employeenumber".lower(): Attribute("exact", "employee_id"),
    f"{ENTERPRISE_URN}:costcenter".lower(): Attribute("itext", "cost_center"),
    f"{ENTERPRISE_URN}:manager.value".lower(): Attribute("uuid", "manager__user_id"),
}


def scim_users(*, tenant: Tenant) -> QuerySet[Membership]:
    """The tenant's members as the directory sees them (service accounts are not people)."""
    return (
        Membership.objects.filter(tenant=tenant, user__is_service_account=False)
        .select_related("user", "scim", "manager")
        .prefetch_related("scim_groups")
        .order_by("created_at", "id")
    )


def scim_user_get(*, tenant: Tenant, user_id: str) -> Membership | None:
    try:
        uuid.UUID(str(user_id))
    except ValueError:
        return None
    return scim_users(tenant=tenant).filter(user_id=user_id).first()


def _mappings(tenant: Tenant) -> list[ScimAttributeMap]:
    return list(ScimAttributeMap.objects.filter(tenant=tenant))


def _email(wish: UserWish) -> str:
    try:
        return normalize_email(wish.email)
    except ValidationFailed:
        raise ScimInvalidValue(f"userName {wish.email!r} is not an email address") from None


def _translate(exc: TesseraError) -> TesseraError:
    """A member service's 422 (field errors) as SCIM's invalidValue; others unchanged."""
    if isinstance(exc, ValidationFailed):
        fields = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in (exc.errors or []) if e)
        return ScimInvalidValue(f"{exc.detail}{' — ' + fields if fields else ''}")
    return exc


def _save_row(*, membership: Membership, wish: UserWish, consent_pending: bool | None) -> None:
    row, _ = ScimUser.objects.get_or_create(
        membership=membership, defaults={"tenant_id": membership.tenant_id}
    )
    row.external_id = wish.external_id
    row.display_name = wish.display_name
    row.document = wish.document
    fields = ["external_id", "display_name", "document"]
    if consent_pending is not None:
        row.consent_pending = consent_pending
        fields.append("consent_pending")
    try:
        with transaction.atomic():
            row.save(update_fields=fields)
    except IntegrityError:
        raise ScimUniqueness(
            f"Another user of this tenant has externalId {wish.external_id!r}"
        ) from None
    ScimEmail.objects.filter(scim_user=row).delete()
    ScimEmail.objects.bulk_create(
        ScimEmail(scim_user=row, value=v[:254], type=t, primary=p) for v, t, p in wish.emails
    )
    membership.scim = row


def _touch(membership: Membership) -> None:
    now = timezone.now()
    Membership.objects.filter(pk=membership.pk).update(updated_at=now)
    membership.updated_at = now


def _attributes(membership: Membership | None, wish: UserWish, mappings) -> dict[str, Any]:
    attributes = dict(membership.attributes) if membership is not None else {}
    for mapping in mappings:
        attributes.pop(mapping.membership_attribute, None)
    attributes.update(wish.attributes)
    return attributes


def scim_user_create(*, tenant: Tenant, resource: ScimUserModel, actor: Actor) -> Membership:
    """POST /Users: a new membership (409 uniqueness when the email is already a member)."""
    mappings = _mappings(tenant)
    wish = user_wish(resource, mappings=mappings)
    email = _email(wish)
    data: dict[str, Any] = {
        "email": email,
        "first_name": wish.first_name,
        "last_name": wish.last_name,
        **wish.membership,
        "manager_id": wish.manager_id,
        "attributes": _attributes(None, wish, mappings),
    }
    try:
        with transaction.atomic():
            if Membership.objects.filter(tenant=tenant, user__email=email).exists():
                raise ScimUniqueness(f"{email} is already a user of this tenant")
            ours = in_verified_domain(tenant, email)
            created = member_create(tenant=tenant, data=data, by=None, actor=actor, vouched=ours)
            membership = created.membership
            if ours and not created.user_created:
                identity_manage(membership=membership, actor=actor)
            invited = membership.status == MembershipStatus.INVITED
            _save_row(membership=membership, wish=wish, consent_pending=invited)
            if wish.active is False:
                membership_suspend(membership, actor=actor)
    except IntegrityError:
        raise ScimUniqueness(f"{email} or its employeeNumber is already used here") from None
    except TesseraError as exc:
        raise _translate(exc) from None
    return scim_users(tenant=tenant).get(pk=membership.pk)


def _apply(*, membership: Membership, wish: UserWish, actor: Actor) -> Membership:
    email = _email(wish)
    if email != membership.user.email:
        username_change(membership=membership, email=email, actor=actor)
    mappings = _mappings(membership.tenant)
    changes: dict[str, Any] = {
        **wish.membership,
        "manager_id": wish.manager_id,
        "attributes": _attributes(membership, wish, mappings),
    }
    user = membership.user
    owned = (
        not user.is_platform_admin
        and user.managed_by_tenant_id == membership.tenant_id
        and membership.status == MembershipStatus.ACTIVE
    )
    if owned and (wish.first_name or wish.last_name):
        changes.update(first_name=wish.first_name, last_name=wish.last_name)
    try:
        with transaction.atomic():
            member_update(membership=membership, changes=changes, by=None, actor=actor)
            _save_row(membership=membership, wish=wish, consent_pending=None)
            if wish.active is False:
                membership_suspend(membership, actor=actor)
            elif wish.active is True:
                membership_resume(membership, actor=actor)
            _touch(membership)
    except TesseraError as exc:
        raise _translate(exc) from None
    return scim_users(tenant=membership.tenant).get(pk=membership.pk)


def _locked(membership: Membership, *, location_base: str, if_match: str | None) -> Membership:
    """The member's row locked for this transaction, re-read; 412 when `If-Match` names
    another version than the current one (so the check and the write cannot interleave)."""
    Membership.objects.select_for_update().filter(pk=membership.pk).first()
    fresh = scim_users(tenant=membership.tenant).get(pk=membership.pk)
    version_check(if_match, user_body(fresh, location_base=location_base)["meta"]["version"])
    return fresh


def scim_user_replace(
    *,
    membership: Membership,
    resource: ScimUserModel,
    actor: Actor,
    location_base: str,
    if_match: str | None = None,
) -> Membership:
    """PUT /Users/{id}: the member becomes what the resource says (absent attributes cleared)."""
    with transaction.atomic():
        membership = _locked(membership, location_base=location_base, if_match=if_match)
        return _apply(
            membership=membership,
            wish=user_wish(resource, mappings=_mappings(membership.tenant)),
            actor=actor,
        )


def _entra_operations(body: Mapping[str, Any]) -> dict[str, Any]:
    """Entra ID sends the manager as a bare id: `{"path": "…:manager", "value": "<id>"}`."""
    operations = body.get("Operations")
    if not isinstance(operations, list):
        return dict(body)
    fixed = []
    for operation in operations:
        if (
            isinstance(operation, dict)
            and str(operation.get("path", "")).lower().endswith(":manager")
            and isinstance(operation.get("value"), str)
        ):
            operation = {**operation, "value": {"value": operation["value"]}}
        fixed.append(operation)
    return {**body, "Operations": fixed}


def scim_user_patch(
    *,
    membership: Membership,
    body: Mapping[str, Any],
    location_base: str,
    actor: Actor,
    if_match: str | None = None,
) -> Membership:
    """PATCH /Users/{id}: RFC 7644 §3.5.2 operations applied by scim2-models to the current
    resource, which is then written back as a PUT would be."""
    with transaction.atomic():
        membership = _locked(membership, location_base=location_base, if_match=if_match)
        current = patch_apply(
            ScimUserModel,
            _entra_operations(body),
            user_body(membership, location_base=location_base),
        )
        return _apply(
            membership=membership,
            wish=user_wish(current, mappings=_mappings(membership.tenant)),
            actor=actor,
        )


def scim_user_delete(
    *, membership: Membership, actor: Actor, location_base: str, if_match: str | None = None
) -> None:
    """DELETE /Users/{id}: the membership goes (its credentials with it); the identity stays."""
    try:
        with transaction.atomic():
            membership = _locked(membership, location_base=location_base, if_match=if_match)
            member_remove(membership=membership, by=None, actor=actor)
    except TesseraError as exc:
        raise _translate(exc) from None
