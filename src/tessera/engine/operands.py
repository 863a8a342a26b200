"""Operands of condition operators: attribute paths and literals, and how values compare.

An operand is one of
- a path string `subject.<field>`, `resource.<field>` or `context.<field>`; below `attributes` any
  number of keys may follow (`subject.attributes.lab.site`);
- a literal wrapped as `{"value": X}`;
- a bare literal: a number, a boolean, a list, or a string that does not look like a dotted path.
  A bare string such as `sales.emea` whose first segment is a name is read as a path and refused if
  its root is not subject/resource/context, so that a typo never silently becomes a literal.

A path whose value is absent or `None` is *missing*; operators are false on missing values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from operator import attrgetter
from typing import Any, Final

from tessera.engine.errors import ConditionError
from tessera.engine.model import Context, Resource, Subject

Getter = Callable[[Subject, Resource | None, Context], Any]
Test = Callable[[Subject, Resource | None, Context], bool]
"""A compiled condition node: true or false, never raising."""


class _Missing:
    """The value of a path that leads nowhere."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()

ROOT_FIELDS: Final[Mapping[str, frozenset[str]]] = {
    "subject": frozenset(
        {
            "user_id",
            "membership_id",
            "tenant_id",
            "department",
            "clearance_level",
            "manager_chain",
            "team",
            "attributes",
        }
    ),
    "resource": frozenset({"type", "id", "owner_id", "department", "attributes"}),
    "context": frozenset(
        {"now", "ip", "mfa_verified", "risk_score", "device_trusted", "attributes"}
    ),
}

_PATH_LIKE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\.")


@dataclass(frozen=True, slots=True)
class Operand:
    """A compiled operand: `get` reads its value; `path` is None for literals."""

    get: Getter
    path: str | None
    literal: Any = MISSING


def looks_like_path(text: str) -> bool:
    """Whether a bare string is read as a path (its first dot-separated segment is a name)."""
    return _PATH_LIKE.match(text) is not None


def compile_operand(value: Any, where: str) -> Operand:
    """Compile one operand (a path or a literal) of the node at `where`."""
    if isinstance(value, str) and looks_like_path(value):
        return Operand(compile_path(value, where), value)
    if isinstance(value, dict):
        if set(value) != {"value"}:
            raise ConditionError(
                f"an operand object must be {{'value': ...}} at {where}", path=where
            )
        value = value["value"]
    if value is None:
        raise ConditionError(
            f"null is not a usable literal at {where} (use 'exists' to test presence)", path=where
        )
    return Operand(_constant(value), None, value)


def _constant(value: Any) -> Getter:
    def get(subject: Subject, resource: Resource | None, context: Context) -> Any:
        return value

    return get


def compile_path(text: str, where: str) -> Getter:
    """Compile `root.field[.key...]` into a getter returning the value or `MISSING`."""
    parts = text.split(".")
    root, name, keys = parts[0], parts[1], tuple(parts[2:])
    fields = ROOT_FIELDS.get(root)
    if fields is None:
        raise ConditionError(
            f"bad path root {root!r} in {text!r} at {where}: paths start with 'subject.', "
            "'resource.' or 'context.' (wrap a literal string containing dots as {'value': ...})",
            path=where,
        )
    if name not in fields:
        raise ConditionError(
            f"unknown field {name!r} in path {text!r} at {where} "
            f"(known: {', '.join(sorted(fields))})",
            path=where,
        )
    if keys and name != "attributes":
        raise ConditionError(
            f"path {text!r} at {where} goes below {root}.{name}, which has no keys", path=where
        )
    if any(not key for key in keys):
        raise ConditionError(f"empty key in path {text!r} at {where}", path=where)
    read = attrgetter(name)
    if root == "subject":
        return _subject_getter(read, keys)
    if root == "resource":
        return _resource_getter(read, keys)
    return _context_getter(read, keys)


def _walk(value: Any, keys: tuple[str, ...]) -> Any:
    for key in keys:
        if not isinstance(value, Mapping):
            return MISSING
        value = value.get(key)
    return MISSING if value is None else value


def _subject_getter(read: Callable[[Any], Any], keys: tuple[str, ...]) -> Getter:
    def get(subject: Subject, resource: Resource | None, context: Context) -> Any:
        return _walk(read(subject), keys)

    return get


def _resource_getter(read: Callable[[Any], Any], keys: tuple[str, ...]) -> Getter:
    def get(subject: Subject, resource: Resource | None, context: Context) -> Any:
        if resource is None:
            return MISSING
        return _walk(read(resource), keys)

    return get


def _context_getter(read: Callable[[Any], Any], keys: tuple[str, ...]) -> Getter:
    def get(subject: Subject, resource: Resource | None, context: Context) -> Any:
        return _walk(read(context), keys)

    return get


# --- how values compare -------------------------------------------------------------------------

SCALAR_KINDS: Final = frozenset({"bool", "number", "str", "datetime", "date"})
ORDERED_KINDS: Final = frozenset({"number", "str", "datetime", "date"})
COLLECTION_KINDS: Final = frozenset({"seq", "set"})


def kind(value: Any) -> str:
    """The comparison kind of a value; values of different kinds are never equal or ordered."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "str"
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, date):
        return "date"
    if isinstance(value, list | tuple):
        return "seq"
    if isinstance(value, set | frozenset):
        return "set"
    if isinstance(value, Mapping):
        return "map"
    return "other"


def equal(a: Any, b: Any) -> bool:
    """Equality without cross-kind surprises: `True != 1`, `"1" != 1`, `[1] == (1,)`."""
    ka = kind(a)
    if ka != kind(b) or ka == "other":
        return False
    if ka == "seq":
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def compare(a: Any, b: Any) -> int | None:
    """-1, 0 or 1 when `a` and `b` are ordered (numbers, strings, datetimes, dates); else None."""
    ka = kind(a)
    if ka != kind(b) or ka not in ORDERED_KINDS:
        return None
    try:
        return -1 if a < b else (1 if a > b else 0)
    except TypeError:  # a naive and an aware datetime
        return None


def contains(container: Any, item: Any) -> bool | None:
    """Membership with `equal` semantics; None when `container` is not a list/set or `item` not a
    scalar."""
    ck = kind(container)
    if ck not in COLLECTION_KINDS or kind(item) not in SCALAR_KINDS:
        return None
    if ck == "set" and isinstance(item, str):
        return item in container
    return any(equal(item, element) for element in container)
