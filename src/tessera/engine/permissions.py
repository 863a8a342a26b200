"""Permission strings: `resource:action`, with the wildcards `resource:*` and `*:*`."""

from __future__ import annotations

import re
from functools import lru_cache

from tessera.engine.errors import PolicyError

WILDCARD = "*"
ANY_PERMISSION = "*:*"

# A name: a lower-case letter, then lower-case letters, digits, `_`, `-` or `.`; 64 at most.
_NAME = r"[a-z][a-z0-9_.\-]{0,63}"
_PERMISSION = re.compile(rf"(?:{_NAME}:(?:{_NAME}|\*)|\*:\*)")
_ACTION = re.compile(rf"({_NAME}):{_NAME}")


def validate_permission(perm: str) -> str:
    """Return `perm` if it is `resource:action`, `resource:*` or `*:*`; else raise `PolicyError`."""
    if not isinstance(perm, str) or _PERMISSION.fullmatch(perm) is None:
        raise PolicyError(
            f"bad permission {perm!r}: expected 'resource:action', 'resource:*' or '*:*' "
            "(names are lower-case letters, digits, '_', '-', '.')",
            field="permission",
        )
    return perm


@lru_cache(maxsize=4096)
def action_resource(action: str) -> str:
    """The resource of a concrete action (`doc:read` -> `doc`); raise `PolicyError` if malformed.

    Actions never contain wildcards. Only well-formed actions are cached, so bad input cannot grow
    the cache past its bound.
    """
    match = _ACTION.fullmatch(action) if isinstance(action, str) else None
    if match is None:
        raise PolicyError(
            f"bad action {action!r}: expected 'resource:action' without wildcards",
            field="action",
        )
    return match.group(1)
