"""The people search `q`: one case-insensitive substring match over email, first and last name.

Every search of people goes through here — `GET /api/v1/users?q=`, the tenant console's member
list and the Django admin's user and membership changelists — so they find the same people.

Django renders `icontains` as `UPPER(col::text) LIKE UPPER(%s)` on PostgreSQL: exactly the
expressions of the trigram GIN indexes `tenancy_search_user_{email,first_name,last_name}_trgm`
(migrations tenancy 0002 and 0004), so PostgreSQL answers a rare term from the indexes instead of
reading every member. SQLite runs the same filter as a scan.
"""

from __future__ import annotations

from django.db.models import Q

from tessera.errors import ValidationFailed, field_error

MAX_QUERY_LENGTH = 100
SEARCH_FIELDS = ("email", "first_name", "last_name")


def search_term(q: str | None) -> str:
    """`q` without surrounding blanks ("" for no search); 422 for a term over the limit."""
    term = (q or "").strip()
    if len(term) > MAX_QUERY_LENGTH:
        raise ValidationFailed(
            "Invalid filters", errors=[field_error("q", f"At most {MAX_QUERY_LENGTH} characters.")]
        )
    return term


def email_matches(term: str, *, path: str = "") -> Q:
    """The identities (at `path`, e.g. `user__`) whose email contains `term`, any case."""
    return Q(**{f"{path}email__icontains": term})


def name_matches(term: str, *, path: str = "") -> Q:
    """The identities (at `path`) whose first or last name contains `term`, any case."""
    return Q(**{f"{path}first_name__icontains": term}) | Q(**{f"{path}last_name__icontains": term})


def user_matches(term: str, *, path: str = "") -> Q:
    """The identities (at `path`) whose email, first or last name contains `term`, any case."""
    return email_matches(term, path=path) | name_matches(term, path=path)
