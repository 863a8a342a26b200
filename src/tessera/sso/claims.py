"""Claim mapping: from a provider's claims to membership fields, attributes, names and groups.

A mapping is `{field: spec}`. `field` is `email`, `first_name`, `last_name`, a membership field
(`department`, `job_title`, `employee_id`, `cost_center`, `clearance_level`, `manager_email`) or
`attributes.<name>`. `spec` names a claim — the exact claim name first (URL-like names contain
dots), else a dotted path into nested claims (`address.locality`) — optionally followed by
transforms: `|lower`, `|upper`, `|split` (a comma-separated string to a list), `|first` (a list's
first item). Example: `{"department": "extension_dept|lower", "attributes.sites": "sites|split"}`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tessera.errors import field_error
from tessera.sso.errors import ProviderInvalid

MEMBERSHIP_TARGETS = (
    "department",
    "job_title",
    "employee_id",
    "cost_center",
    "clearance_level",
    "manager_email",
)
IDENTITY_TARGETS = ("email", "first_name", "last_name")
TRANSFORMS = ("lower", "upper", "split", "first")
_ATTRIBUTE = re.compile(r"attributes\.[A-Za-z_][A-Za-z0-9_]{0,63}")
_SPEC = re.compile(r"[^|\s]{1,200}(\|(lower|upper|split|first))*")
MAX_MAPPINGS = 50
MAX_VALUE_CHARS = 1000
MAX_GROUPS = 500


def claim_mapping_validate(mapping: Any, *, where: str = "claim_mapping") -> dict[str, str]:
    """A validated mapping; 422 naming the bad field or claim spec."""
    if mapping is None:
        return {}
    if not isinstance(mapping, Mapping) or len(mapping) > MAX_MAPPINGS:
        raise ProviderInvalid(
            "claim_mapping is an object of at most 50 fields",
            errors=[field_error(where, "An object {field: claim}.")],
        )
    clean: dict[str, str] = {}
    for target, spec in mapping.items():
        at = f"{where}.{target}"
        known = target in MEMBERSHIP_TARGETS or target in IDENTITY_TARGETS
        if not isinstance(target, str) or not (known or _ATTRIBUTE.fullmatch(target)):
            raise ProviderInvalid(
                f"Unknown mapping target {target!r}",
                errors=[field_error(at, "A membership field or attributes.<name>.", "unknown")],
            )
        if not isinstance(spec, str) or not _SPEC.fullmatch(spec):
            raise ProviderInvalid(
                f"Invalid claim for {target}",
                errors=[
                    field_error(at, "A claim name or dotted path, then |lower|upper|split|first.")
                ],
            )
        clean[target] = spec
    return clean


def claim_value(claims: Mapping[str, Any], path: str) -> Any:
    """The claim named `path`, else the value at its dotted path; None when absent."""
    if path in claims:
        return claims[path]
    current: Any = claims
    for part in path.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return None
        current = current[part]
    return current


def _transform(value: Any, name: str) -> Any:
    if value is None:
        return None
    if name == "lower":
        return [v.lower() for v in value] if isinstance(value, list) else str(value).lower()
    if name == "upper":
        return [v.upper() for v in value] if isinstance(value, list) else str(value).upper()
    if name == "split":
        if isinstance(value, list):
            return value
        return [part.strip() for part in str(value).split(",") if part.strip()]
    if name == "first":
        return value[0] if isinstance(value, list) and value else value
    return value


def _scalar(value: Any) -> Any:
    """Only plain JSON values of a sane size go into membership data."""
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return value[:MAX_VALUE_CHARS]
    if isinstance(value, list):
        return [v[:MAX_VALUE_CHARS] for v in value[:100] if isinstance(v, str)]
    return None


def claims_mapped(mapping: Mapping[str, str], claims: Mapping[str, Any]) -> dict[str, Any]:
    """{target: value} for every target whose claim is present."""
    found: dict[str, Any] = {}
    for target, spec in mapping.items():
        path, *transforms = spec.split("|")
        value = claim_value(claims, path)
        for name in transforms:
            value = _transform(value, name)
        value = _scalar(value)
        if value is not None:
            found[target] = value
    return found


def claim_groups(claims: Mapping[str, Any], *, claim: str, prefix: str = "") -> set[str]:
    """The group names of the token (a list, or a comma-separated string), kept to `prefix`."""
    if not claim:
        return set()
    raw = claim_value(claims, claim)
    if isinstance(raw, str):
        raw = [part.strip() for part in raw.split(",")]
    if not isinstance(raw, list):
        return set()
    groups = {g for g in raw[:MAX_GROUPS] if isinstance(g, str) and 0 < len(g) <= 256}
    return {g for g in groups if g.startswith(prefix)} if prefix else groups
