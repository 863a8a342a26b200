"""Password policy: which new passwords a user may choose (NIST SP 800-63B-4, OWASP ASVS 5).

The rules come from the tenants' `settings.password` (tessera.tenancy.tenant_settings). A password
is global to the person, so the policy that applies to a user is the strictest combination of the
policies of every tenant they are an active member of (and of the tenant being acted in); a user
without a tenant gets the defaults. Defaults: at least 15 characters, up to 128 accepted, the
blocklist and context words on, no composition rules, no history, no expiry.

The password is never truncated, trimmed, normalised or case-folded: its length is counted in
Unicode code points and it is hashed exactly as typed. Only the blocklist and context comparisons
are case-insensitive (a capitalised common password is still a common password).

The blocklist is Django's `common-passwords.txt.gz` (19,640 entries, most frequent first:
Royce Williams' list derived from breach corpora), read once per process. See
docs/decisions/0002-authentication.md.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from django.contrib.auth.hashers import check_password
from django.contrib.auth.password_validation import CommonPasswordValidator
from pydantic import BaseModel, ConfigDict, Field, model_validator

from tessera.errors import ValidationFailed, field_error
from tessera.identity.models import PasswordHistory

CONTEXT_MIN_LENGTH = 4
"""Context words shorter than this are refused only when they are the whole password."""

SERVICE_WORDS = ("tessera",)
_WORD_SPLIT = re.compile(r"[\s._+@-]+")
_EDGE_JUNK = re.compile(r"^[\d\W_]+|[\d\W_]+$")


class PasswordPolicy(BaseModel):
    """A tenant's password rules (part of its settings, `tessera.tenancy.tenant_settings`)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    min_length: int = Field(15, ge=8, le=128)
    max_length: int = Field(128, ge=64, le=128)
    blocklist: bool = True
    require_classes: int = Field(0, ge=0, le=4, description="distinct character classes required")
    min_unique_chars: int = Field(0, ge=0, le=64)
    history: int = Field(0, ge=0, le=24, description="last N passwords that cannot be reused")
    max_age_days: int = Field(0, ge=0, le=3650, description="0 = passwords never expire")

    @model_validator(mode="after")
    def _bounds(self) -> PasswordPolicy:
        if self.min_length > self.max_length:
            raise ValueError("min_length cannot exceed max_length")
        return self


MemberTenants = Callable[..., list[Any]]
"""`(user, *, active_tenants_only: bool) -> [tenant]`: the tenants where the person is an active
member (and, with `active_tenants_only`, the tenant is active too)."""

_member_tenants: list[MemberTenants] = []


def member_tenants_provide(provider: MemberTenants) -> None:
    """Tenancy tells identity whose password policies apply to a person (called at app start)."""
    _member_tenants[:] = [provider]


def _tenants_of(user, *, active_tenants_only: bool) -> list[Any]:
    if user is None or user.pk is None or not _member_tenants:
        return []
    return _member_tenants[0](user, active_tenants_only=active_tenants_only)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The blocklist, lower-cased (read once)."""
    return frozenset(p.lower() for p in CommonPasswordValidator().passwords if p)


def policy_merge(policies: Iterable[PasswordPolicy]) -> PasswordPolicy:
    """The strictest combination of several tenants' policies (defaults when there are none)."""
    policies = list(policies)
    if not policies:
        return PasswordPolicy()
    min_length = max(p.min_length for p in policies)
    max_length = max(min(p.max_length for p in policies), min_length)
    ages = [p.max_age_days for p in policies if p.max_age_days]
    return PasswordPolicy(
        min_length=min_length,
        max_length=max_length,
        blocklist=any(p.blocklist for p in policies),
        require_classes=max(p.require_classes for p in policies),
        min_unique_chars=max(p.min_unique_chars for p in policies),
        history=max(p.history for p in policies),
        max_age_days=min(ages) if ages else 0,
    )


def policy_for_user(user, *, tenant=None, member_of: Iterable[Any] | None = None) -> PasswordPolicy:
    """The policy a user's password must follow: every active tenant of theirs, plus `tenant`.
    (`member_of`: those active tenants, when the caller has read them already.)"""

    tenants: dict[Any, Any] = {}
    if member_of is None:
        member_of = _tenants_of(user, active_tenants_only=True)
    for t in member_of:
        tenants[t.pk] = t
    if tenant is not None:
        tenants[tenant.pk] = tenant
    return policy_merge(t.policy.password for t in tenants.values())


def context_words(user=None, *, email: str = "", tenants: Iterable[Any] = ()) -> set[str]:
    """Words a password must not contain: the email and its parts, the names, tenant names."""
    words: set[str] = set(SERVICE_WORDS)
    email = email or (getattr(user, "email", "") or "")
    if email:
        local, _, domain = email.lower().partition("@")
        words.add(local)
        words.update(_WORD_SPLIT.split(local))
        words.add(domain.split(".")[0])
    for name in (getattr(user, "first_name", ""), getattr(user, "last_name", "")):
        if name:
            words.add(name.lower())
            words.update(_WORD_SPLIT.split(name.lower()))
    for tenant in tenants:
        for value in (getattr(tenant, "slug", ""), getattr(tenant, "name", "")):
            if value:
                words.add(value.lower())
                words.update(_WORD_SPLIT.split(value.lower()))
    return {w for w in words if w}


def _char_classes(password: str) -> int:
    lower = upper = digit = other = False
    for ch in password:
        if ch.isdigit():
            digit = True
        elif ch.islower():
            lower = True
        elif ch.isupper():
            upper = True
        else:
            other = True
    return lower + upper + digit + other


def _is_common(password: str) -> bool:
    blocked = common_passwords()
    folded = unicodedata.normalize("NFKC", password).lower()
    if folded in blocked:
        return True
    base = _EDGE_JUNK.sub("", folded)  # "Password123!" → "password"
    if len(base) >= CONTEXT_MIN_LENGTH and base in blocked:
        return True
    for size in range(1, len(folded) // 2 + 1):  # "passwordpassword", "abcabcabcabcabc"
        if len(folded) % size == 0 and folded[:size] * (len(folded) // size) == folded:
            unit = folded[:size]
            return size < CONTEXT_MIN_LENGTH or unit in blocked
    return False


def _contains_context(password: str, words: Iterable[str]) -> bool:
    folded = unicodedata.normalize("NFKC", password).lower()
    for word in words:
        if len(word) >= CONTEXT_MIN_LENGTH and word in folded:
            return True
        if word == folded:
            return True
    return False


def policy_violations(
    password: str,
    *,
    policy: PasswordPolicy,
    words: Iterable[str] = (),
    field: str = "new_password",
) -> list[dict[str, Any]]:
    """Every rule the password breaks (no database access; history is checked separately)."""
    errors: list[dict[str, Any]] = []
    length = len(password)
    if length < policy.min_length:
        errors.append(
            field_error(
                field, f"Use at least {policy.min_length} characters.", "password_too_short"
            )
        )
    if length > policy.max_length:
        errors.append(
            field_error(field, f"Use at most {policy.max_length} characters.", "password_too_long")
        )
    if policy.blocklist and _is_common(password):
        errors.append(
            field_error(
                field,
                "This password is too common; choose one that is harder to guess.",
                "password_too_common",
            )
        )
    if policy.blocklist and _contains_context(password, words):
        errors.append(
            field_error(
                field,
                "Do not use your email address, your name or the organisation's name.",
                "password_contains_personal_info",
            )
        )
    if policy.require_classes and _char_classes(password) < policy.require_classes:
        errors.append(
            field_error(
                field,
                f"Use at least {policy.require_classes} of: lower-case letters, upper-case "
                "letters, digits, symbols.",
                "password_too_few_classes",
            )
        )
    if policy.min_unique_chars and len(set(password)) < policy.min_unique_chars:
        errors.append(
            field_error(
                field,
                f"Use at least {policy.min_unique_chars} different characters.",
                "password_too_few_unique_chars",
            )
        )
    return errors


def password_reused(user, password: str, *, history: int) -> bool:
    """True when `password` is the current one or one of the user's last `history - 1` before it."""
    if history <= 0 or user is None or user.pk is None:
        return False
    if user.has_usable_password() and check_password(password, user.password):
        return True

    former = PasswordHistory.objects.filter(user_id=user.pk).values_list("password", flat=True)
    return any(check_password(password, encoded) for encoded in former[: max(0, history - 1)])


def password_validate(
    password: str, *, user=None, email: str = "", tenant=None, field: str = "new_password"
) -> PasswordPolicy:
    """Raise ValidationFailed (422) listing every broken rule; return the policy applied."""

    policy = policy_for_user(user, tenant=tenant)
    tenants = _tenants_of(user, active_tenants_only=False)
    if tenant is not None:
        tenants.append(tenant)
    words = context_words(user, email=email, tenants=tenants)
    errors = policy_violations(password, policy=policy, words=words, field=field)
    if policy.history and password_reused(user, password, history=policy.history):
        errors.append(
            field_error(
                field,
                f"Do not reuse any of your last {policy.history} passwords.",
                "password_reused",
            )
        )
    if errors:
        raise ValidationFailed(
            "The password does not meet the password policy",
            code="password_policy",
            errors=errors,
        )
    return policy


def password_expired(user, *, policy: PasswordPolicy, now: datetime) -> bool:
    """Whether the policy's maximum age has passed since the password was last set."""
    if not policy.max_age_days or user is None:
        return False
    changed = user.password_changed_at or getattr(user, "created_at", None)
    return changed is not None and now - changed > timedelta(days=policy.max_age_days)
