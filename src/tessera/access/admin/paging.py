"""A changelist paginator that never counts more rows than it can page through.

Django's changelist counts its (filtered) rows for the pager; at 100,000 identities that COUNT(*)
reads every row on every page view. This paginator counts at most `CAP` rows (a `LIMIT`ed
subquery), so a page costs the same at 100 members as at 100,000: past the cap the pager offers
the first `CAP` rows, and a search narrows to the rest.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

CAP = 10_000


class CappedCountPaginator(Paginator):
    @cached_property
    def count(self) -> int:
        rows = self.object_list
        if isinstance(rows, QuerySet):
            return rows[:CAP].count()
        return len(rows)
