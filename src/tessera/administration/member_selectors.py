"""Reads of a tenant's members: search, filters and keyset pagination in a constant query count.

A page costs two queries whatever its size: the members (with their identity and manager joined)
and their role slugs (prefetched). Pagination walks `(created_at, id)` — the order of the
`tenancy_membership_tenant_created` index — so the 2,000th page costs what the first does. The
search `q` is the people search of `tessera.identity.search` (email, first and last name, any
case; an invited person's name is not searched); on PostgreSQL trigram indexes (migrations
tenancy 0002 and 0004) keep it fast at 100,000 members. The API's list reads plain rows
(`member_rows_page`, module member_rows) instead of model instances.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from tessera.access.models import RoleAssignment
from tessera.access.selectors import membership_role_slugs
from tessera.errors import ValidationFailed, field_error
from tessera.expiry import active_at
from tessera.identity.search import email_matches, name_matches, search_term
from tessera.tenancy.models import Membership, MembershipStatus, Tenant
from tessera.tenancy.selectors import membership_queryset

STATUS_FILTERS = (*MembershipStatus.values, "inactive")


@dataclass(frozen=True, slots=True)
class MemberCursor:
    """The position after which the next page starts."""

    created_at: datetime
    id: uuid.UUID

    def as_dict(self) -> dict[str, str]:
        return {"c": self.created_at.isoformat(), "i": str(self.id)}

    @classmethod
    def from_dict(cls, data: dict | None) -> MemberCursor | None:
        if data is None:
            return None
        try:
            return cls(datetime.fromisoformat(data["c"]), uuid.UUID(data["i"]))
        except (KeyError, TypeError, ValueError):
            raise ValidationFailed(
                "Invalid cursor", errors=[field_error("cursor", "Not a cursor this API issued.")]
            ) from None


@dataclass(frozen=True, slots=True)
class MemberPage:
    items: list[Membership]
    next_cursor: MemberCursor | None


def _with_roles(queryset: QuerySet[Membership]) -> QuerySet[Membership]:
    """Identity and manager joined; the unexpired role assignments in one prefetch query."""

    assignments = (
        RoleAssignment.objects.filter(active_at(timezone.now()))
        .select_related("role")
        .order_by("role__slug")
    )
    return queryset.select_related("user", "manager").prefetch_related(
        Prefetch("role_assignments", queryset=assignments, to_attr="prefetched_assignments")
    )


def member_role_slugs(membership: Membership) -> list[str]:
    """The role slugs of a member loaded by this module (no query; one for any other member)."""
    assignments = getattr(membership, "prefetched_assignments", None)
    if assignments is None:
        return membership_role_slugs(membership_id=membership.pk, now=timezone.now())
    return [a.role.slug for a in assignments]


def member_search_q(term: str, *, path: str = "") -> Q:
    """The members (at `path`, e.g. `membership__`) the search `term` finds: by email, or by name
    once they accepted — an invited person's name is not the tenant's to know (nor to search)."""
    invited = Q(**{f"{path}status": MembershipStatus.INVITED})
    user = f"{path}user__"
    return email_matches(term, path=user) | (name_matches(term, path=user) & ~invited)


def member_filter(
    *,
    tenant: Tenant,
    q: str | None = None,
    role: str | None = None,
    status: str | None = None,
    department: str | None = None,
) -> QuerySet[Membership]:
    """The tenant's members matching the filters (unordered, no page), validated."""
    errors = []
    qs = membership_queryset(tenant=tenant)
    try:
        term = search_term(q)
    except ValidationFailed as exc:
        errors.extend(exc.errors or [])
        term = ""
    if term:
        qs = qs.filter(member_search_q(term))
    if status:
        if status not in STATUS_FILTERS:
            errors.append(field_error("status", f"One of {', '.join(STATUS_FILTERS)}."))
        elif status == "inactive":  # the person is deactivated everywhere
            qs = qs.filter(user__is_active=False)
        else:
            qs = qs.filter(status=status)
    if department:
        qs = qs.filter(department=department)
    if role:
        qs = qs.filter(
            Exists(
                RoleAssignment.objects.filter(
                    active_at(timezone.now()),
                    membership_id=OuterRef("pk"),
                    role__tenant=tenant,
                    role__slug=role,
                )
            )
        )
    if errors:
        raise ValidationFailed("Invalid filters", errors=errors)
    return qs


def after_cursor(qs, cursor: MemberCursor | None):
    """The members after `cursor` in (created_at, id) order: a range on the index's leading
    column, then an exact tie-break, so the scan stays ordered."""
    if cursor is None:
        return qs
    return qs.filter(created_at__gte=cursor.created_at).exclude(
        created_at=cursor.created_at, id__lte=cursor.id
    )


def member_list(
    *,
    tenant: Tenant,
    q: str | None = None,
    role: str | None = None,
    status: str | None = None,
    department: str | None = None,
    cursor: MemberCursor | None = None,
    limit: int = 50,
) -> MemberPage:
    """One page of the tenant's members, oldest first, with identity, manager and roles loaded."""
    qs = member_filter(tenant=tenant, q=q, role=role, status=status, department=department)
    qs = after_cursor(qs, cursor)
    rows = list(_with_roles(qs.order_by("created_at", "id"))[: limit + 1])
    items = rows[:limit]
    following = None
    if len(rows) > limit:
        last = items[-1]
        following = MemberCursor(last.created_at, last.id)
    return MemberPage(items=items, next_cursor=following)


def member_get(*, tenant: Tenant, user_id) -> Membership | None:
    """One member of this tenant by global user id, roles loaded; None for anyone else."""
    try:
        uuid.UUID(str(user_id))
    except ValueError:
        return None
    return _with_roles(membership_queryset(tenant=tenant).filter(user_id=user_id)).first()


def member_by_email(*, tenant: Tenant, email: str) -> Membership | None:
    return membership_queryset(tenant=tenant).filter(user__email=email).first()
