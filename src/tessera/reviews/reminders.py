"""Reminders for overdue access review items: `access_reviews_remind()` (a scheduler calls it;
`tessera access-reviews remind` runs it) mails each reviewer with overdue pending items once,
at most every `access_reviews.reminder_interval_hours` of their tenant (24 by default)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tessera.identity.mailer import mail_queue
from tessera.reviews.models import AccessReviewItem, Decision, ReviewStatus


@dataclass(frozen=True, slots=True)
class RemindersSent:
    reviewers: int
    items: int


def access_reviews_remind(*, now: datetime | None = None) -> RemindersSent:
    """Mail every reviewer who has pending items of open campaigns past their due date."""
    now = now or timezone.now()
    overdue = (
        AccessReviewItem.objects.filter(
            decision=Decision.PENDING,
            review__status=ReviewStatus.OPEN,
            review__due_at__lt=now,
            reviewer__isnull=False,
        )
        .select_related("review__tenant", "reviewer__user")
        .order_by("reviewer_id", "review_id", "position")
    )
    by_reviewer: dict = defaultdict(list)
    for item in overdue.iterator(chunk_size=500):
        hours = item.review.tenant.policy.access_reviews.reminder_interval_hours
        if item.reminded_at is None or item.reminded_at <= now - timedelta(hours=hours):
            by_reviewer[item.reviewer_id].append(item)
    sent_items = 0
    with transaction.atomic():
        for items in by_reviewer.values():
            reviewer = items[0].reviewer
            campaigns: dict = {}
            for item in items:
                entry = campaigns.setdefault(item.review_id, [item.review, 0])
                entry[1] += 1
            mail_queue(
                "access_review_reminder",
                to=reviewer.user.email,
                context={
                    "tenant_name": items[0].review.tenant.name,
                    "campaigns": [
                        {"name": review.name, "due_at": review.due_at, "pending": count}
                        for review, count in campaigns.values()
                    ],
                    "pending": len(items),
                },
                link=None,
            )
            AccessReviewItem.objects.filter(Q(pk__in=[i.pk for i in items])).update(reminded_at=now)
            sent_items += len(items)
    return RemindersSent(reviewers=len(by_reviewer), items=sent_items)
