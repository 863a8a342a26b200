"""Tenancy's part of a member's privacy requests, and the small forms every app's part shares."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from tessera.tenancy.models import Invitation, Membership


def iso_or_none(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def user_id_of(membership: Membership | None) -> str | None:
    return str(membership.user_id) if membership is not None else None


def ids_of(queryset: QuerySet[Any]) -> tuple[str, ...]:
    return tuple(str(pk) for pk in queryset.values_list("pk", flat=True))


def deleted_count(queryset: QuerySet[Any]) -> int:
    """Delete the rows and say how many of the queryset's own model went (not cascades)."""
    return queryset.delete()[1].get(queryset.model._meta.label, 0)


def membership_ids_of(*, user_id: Any, membership: Membership | None) -> tuple[str, ...]:
    """The person's membership ids: every one, or only `membership`'s."""
    memberships = Membership.objects.filter(user_id=user_id)
    if membership is not None:
        memberships = memberships.filter(pk=membership.pk)
    return ids_of(memberships)


def membership_delete(*, membership: Membership) -> dict[str, int]:
    """Delete the membership and its invitations; call inside the erasing transaction."""
    invitations = deleted_count(Invitation.objects.filter(membership=membership))
    Membership.objects.filter(pk=membership.pk).delete()
    return {"invitations": invitations}
