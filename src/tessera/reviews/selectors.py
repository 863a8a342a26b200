"""Reads of access reviews: campaigns of a tenant, their items (all, or one reviewer's), and the
report — who reviewed what, when, with what outcome — as rows for CSV or JSON."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from typing import Any

from django.db.models import Count, Q, QuerySet

from tessera.errors import NotFound
from tessera.identity.models import User
from tessera.reviews.models import AccessReview, AccessReviewItem, Decision
from tessera.tenancy.models import Membership, Tenant

REPORT_COLUMNS = (
    "item_id",
    "user_id",
    "user_email",
    "kind",
    "access",
    "reviewer_id",
    "reviewer_email",
    "decision",
    "applied",
    "decided_by",
    "decided_at",
    "note",
)


def access_review_list(*, tenant: Tenant) -> QuerySet[AccessReview]:
    return AccessReview.objects.filter(tenant=tenant).order_by("-created_at", "-id")


def access_review_get(*, tenant: Tenant, review_id) -> AccessReview:
    """One campaign of the tenant; 404 for an unknown id or another tenant's."""
    try:
        uuid.UUID(str(review_id))
    except ValueError:
        raise NotFound("No such access review") from None
    review = AccessReview.objects.filter(tenant=tenant, pk=review_id).first()
    if review is None:
        raise NotFound("No such access review")
    return review


def review_counts(review: AccessReview, *, reviewer: Membership | None = None) -> dict[str, int]:
    items = review.items.all()
    if reviewer is not None:
        items = items.filter(reviewer=reviewer)
    found = items.aggregate(
        total=Count("pk"),
        pending=Count("pk", filter=Q(decision=Decision.PENDING)),
        kept=Count("pk", filter=Q(decision=Decision.KEEP)),
        revoked=Count("pk", filter=Q(decision=Decision.REVOKE)),
    )
    return {key: int(value or 0) for key, value in found.items()}


def review_items(
    *, review: AccessReview, reviewer: Membership | None = None, decision: str | None = None
) -> QuerySet[AccessReviewItem]:
    """The campaign's items in order; only `reviewer`'s when given."""
    items = review.items.all()
    if reviewer is not None:
        items = items.filter(reviewer=reviewer)
    if decision:
        items = items.filter(decision=decision)
    return items.order_by("position")


def review_item_get(*, review: AccessReview, item_id) -> AccessReviewItem:
    try:
        uuid.UUID(str(item_id))
    except ValueError:
        raise NotFound("No such item") from None
    item = review.items.filter(pk=item_id).first()
    if item is None:
        raise NotFound("No such item")
    return item


def _emails(user_ids: set) -> dict:
    rows = User.objects.filter(pk__in=[u for u in user_ids if u]).values_list("pk", "email")
    return dict(rows)


def review_report_rows(review: AccessReview) -> Iterator[dict[str, Any]]:
    """One row per item, in order, in batches (constant memory for large campaigns)."""
    batch = 500
    last = 0
    while True:
        items = list(review.items.filter(position__gt=last).order_by("position")[:batch])
        if not items:
            return
        emails = _emails(
            {i.user_id for i in items}
            | {i.reviewer_user_id for i in items}
            | {i.decided_by_user_id for i in items}
        )
        for item in items:
            yield {
                "item_id": str(item.pk),
                "user_id": str(item.user_id),
                "user_email": emails.get(item.user_id, ""),
                "kind": item.kind,
                "access": item.label,
                "reviewer_id": str(item.reviewer_user_id) if item.reviewer_user_id else None,
                "reviewer_email": emails.get(item.reviewer_user_id, ""),
                "decision": item.decision,
                "applied": item.applied,
                "decided_by": str(item.decided_by_user_id) if item.decided_by_user_id else None,
                "decided_at": item.decided_at.isoformat() if item.decided_at else None,
                "note": item.note,
            }
        last = items[-1].position


def review_report_csv(review: AccessReview) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(REPORT_COLUMNS)
    for row in review_report_rows(review):
        writer.writerow(["" if row[c] is None else row[c] for c in REPORT_COLUMNS])
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def review_as_dict(review: AccessReview, *, reviewer: Membership | None = None) -> dict[str, Any]:
    return {
        "id": str(review.pk),
        "name": review.name,
        "scope": review.scope,
        "status": review.status,
        "due_at": review.due_at,
        "created_at": review.created_at,
        "completed_at": review.completed_at,
        "created_by": str(review.created_by.user_id) if review.created_by is not None else None,
        "fallback_reviewer_id": (
            str(review.fallback_reviewer.user_id) if review.fallback_reviewer is not None else None
        ),
        "counts": review_counts(review, reviewer=reviewer),
    }


def item_as_dict(item: AccessReviewItem) -> dict[str, Any]:
    return {
        "id": str(item.pk),
        "user_id": str(item.user_id),
        "kind": item.kind,
        "access": item.label,
        "detail": item.detail,
        "reviewer_id": str(item.reviewer_user_id) if item.reviewer_user_id else None,
        "decision": item.decision,
        "applied": item.applied,
        "note": item.note,
        "decided_by": str(item.decided_by_user_id) if item.decided_by_user_id else None,
        "decided_at": item.decided_at,
    }
