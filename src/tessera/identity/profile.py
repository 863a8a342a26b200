"""The person edits their own global profile (PATCH /api/v1/auth/me)."""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping
from typing import Any

from django.db import models, transaction

from tessera.audit.models import AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.errors import ValidationFailed, field_error
from tessera.identity.models import User

OWN_PROFILE_FIELDS = ("first_name", "last_name", "phone", "timezone", "language", "avatar_url")


def max_length_of(model: type[models.Model], name: str) -> int:
    """The width of a bounded text column (`CharField` and its kin) of `model`."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.CharField) or field.max_length is None:
        raise TypeError(f"{model.__name__}.{name} is not a bounded text field")
    return field.max_length


def _clean(name: str, value: Any) -> tuple[Any, dict | None]:
    if value is None:
        if name in ("timezone", "language"):
            return None, field_error(name, "Cannot be empty.", "required")
        return "", None
    if not isinstance(value, str):
        return None, field_error(name, "A string.")
    value = value.strip()
    limit = max_length_of(User, name)
    if len(value) > limit:
        return None, field_error(name, f"At most {limit} characters.", "too_long")
    if name == "avatar_url" and value and not value.startswith(("https://", "http://")):
        return None, field_error(name, "An http(s) URL.")
    if name == "timezone":
        try:
            zoneinfo.ZoneInfo(value)
        except (ValueError, zoneinfo.ZoneInfoNotFoundError):
            return None, field_error(name, "An IANA time zone, e.g. Europe/Paris.", "unknown")
    if name in ("timezone", "language") and not value:
        return None, field_error(name, "Cannot be empty.", "required")
    return value, None


def profile_update_own(
    *, user: User, changes: Mapping[str, Any], actor: Actor | None = None
) -> User:
    """Change one's own profile fields; 422 listing every bad field; PROFILE_UPDATE (platform
    chain: the profile belongs to no tenant) with before/after."""
    errors: list[dict] = []
    for name in sorted(set(changes) - set(OWN_PROFILE_FIELDS)):
        errors.append(field_error(name, "Cannot be changed here.", "unknown_field"))
    clean: dict[str, Any] = {}
    for name in OWN_PROFILE_FIELDS:
        if name in changes:
            value, error = _clean(name, changes[name])
            if error:
                errors.append(error)
            else:
                clean[name] = value
    if errors:
        raise ValidationFailed("Invalid profile", errors=errors)
    before = {k: getattr(user, k) for k, v in clean.items() if getattr(user, k) != v}
    if not before:
        return user
    with transaction.atomic():
        for name in before:
            setattr(user, name, clean[name])
        user.save(update_fields=[*before, "updated_at"])
        audit_record(
            type=AuditEventType.PROFILE_UPDATE,
            actor=actor,
            tenant_id=None,
            resource_type="user",
            resource_id=user.pk,
            changes={"before": before, "after": {k: clean[k] for k in before}, "by": "self"},
        )
    return user
