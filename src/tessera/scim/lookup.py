"""The lookup a directory sends before every create: `userName eq "…"` or `externalId eq "…"`.

Okta and Entra ID ask it once per user they provision, so it is a hot path of its own. Both
attributes are unique in a tenant (an email is one identity, a membership is one per identity;
externalId is unique per tenant), so the answer is at most one member, read by one narrow
prepared query (`tessera.access.prepared`): the member's columns, its identity's, its SCIM row's,
its manager's user id (a correlated value, not a join) and whether it is in any directory group.
Only then is a second prepared query asked for the groups' ids and names. The body is the one
`user_body` answers (`record_body` over the same record), so the two paths cannot drift.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet, Subquery, UUIDField

from tessera.access.prepared import PreparedQuery
from tessera.scim.filters import filter_equality, lower_text
from tessera.scim.models import ScimGroup, ScimGroupMember
from tessera.scim.resources import USER_URN, ScimUserModel
from tessera.scim.user_resource import UserRecord
from tessera.tenancy.models import Membership

_TENANT = uuid.UUID(int=0)
_VALUE = "\x00scim-lookup-value"
_MEMBER = uuid.UUID(int=0)

_COLUMNS = (
    "user_id",
    "user__email",
    "user__first_name",
    "user__last_name",
    "status",
    "job_title",
    "department",
    "employee_id",
    "cost_center",
    "created_at",
    "updated_at",
    "manager_user_id",
    "scim__membership_id",
    "scim__external_id",
    "scim__document",
    "in_groups",
    "id",
)


def _members(tenant_id, **match: Any) -> QuerySet:
    """The tenant's people (as `scim_users`) matching `match`, as the record's columns."""
    return (
        Membership.objects.filter(tenant_id=tenant_id, user__is_service_account=False, **match)
        .annotate(
            manager_user_id=Subquery(
                Membership.objects.filter(pk=OuterRef("manager_id")).values("user_id")[:1],
                output_field=UUIDField(),  # a uuid on every backend (SQLite stores hex)
            ),
            in_groups=Exists(ScimGroupMember.objects.filter(membership_id=OuterRef("pk"))),
        )
        .values_list(*_COLUMNS)
        .order_by("created_at", "id")[:1]
    )


_BY_USERNAME = PreparedQuery(
    lambda tenant_id, email: _members(tenant_id, user__email=email),
    placeholders=(_TENANT, _VALUE),
)
_BY_EXTERNAL_ID = PreparedQuery(
    lambda tenant_id, external_id: _members(tenant_id, scim__external_id=external_id),
    placeholders=(_TENANT, _VALUE),
)
_GROUPS = PreparedQuery(
    lambda membership_id: (
        ScimGroup.objects.filter(memberships__membership_id=membership_id)
        .order_by("created_at", "id")
        .values_list("id", "display_name")
    ),
    placeholders=(_MEMBER,),
)


def _record(row: tuple) -> UserRecord:
    (user_id, email, first_name, last_name, status, job_title, department, employee_id) = row[:8]
    cost_center, created_at, updated_at, manager_user_id = row[8:12]
    scim_id, external_id, document, in_groups, membership_id = row[12:]
    return UserRecord(
        user_id=user_id,
        email=email,
        first_name=first_name,
        last_name=last_name,
        status=status,
        job_title=job_title,
        department=department,
        employee_id=employee_id,
        cost_center=cost_center,
        created_at=created_at,
        updated_at=updated_at,
        manager_user_id=manager_user_id,
        scim=(external_id, document) if scim_id is not None else None,
        groups=_GROUPS.all(membership_id) if in_groups else [],
    )


def scim_user_lookup(*, tenant_id, filter_text: str) -> list[UserRecord] | None:
    """Every match of `filter_text` (at most one) when it is `userName eq "…"` or
    `externalId eq "…"` with a string; None for any other filter (the general query answers
    it). An invalid filter raises ScimInvalidFilter, as the general query would."""
    found = filter_equality(filter_text, model=ScimUserModel, core_urn=USER_URN)
    if found is None or not isinstance(found[1], str):
        return None
    key, value = found
    if key == "username":
        row = _BY_USERNAME.one(tenant_id, lower_text(value))
    elif key == "externalid":
        row = _BY_EXTERNAL_ID.one(tenant_id, value)
    else:
        return None
    return [_record(row)] if row is not None else []
