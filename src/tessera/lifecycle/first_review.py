"""A joiner's first access review: when the joiner template's `first_review_after_days` have
passed, a campaign over that member's access opens (`tessera.reviews`), reviewed by their manager.

`first_reviews_start(now)` is what a daily scheduler (or `tessera lifecycle reviews-due --start`)
calls. Each record is taken under a row lock that concurrent runs skip, so a joiner gets one
campaign however many runs overlap; a joiner who holds nothing to review is marked done.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from tessera.errors import ValidationFailed
from tessera.lifecycle.joiner import first_reviews_due
from tessera.lifecycle.models import JoinerRecord
from tessera.reviews.services import access_review_create_for_member

REVIEW_WINDOW = timedelta(days=14)
"""How long the reviewer has for a first review once it opens."""


def first_reviews_start(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Open the first access review of every joiner whose day has come; returns how many opened."""
    now = now or timezone.now()
    opened = 0
    for record in first_reviews_due(now=now)[:limit]:
        with transaction.atomic():
            locked = (
                JoinerRecord.objects.select_for_update(skip_locked=True)
                .filter(pk=record.pk, first_review_started_at__isnull=True)
                .first()
            )
            if locked is None:
                continue  # another run has it
            try:
                with transaction.atomic():
                    access_review_create_for_member(
                        membership=record.membership, due_at=now + REVIEW_WINDOW
                    )
                opened += 1
            except ValidationFailed as refused:
                if refused.code != "review_empty":
                    raise
            locked.first_review_started_at = now
            locked.save(update_fields=["first_review_started_at"])
    return opened
