"""Views stay thin: no API module reaches the ORM itself, so no view can forget a tenant filter.

Reads go through selectors that take the tenant (`membership_queryset(tenant=…)` and friends),
writes through services.
"""

import ast
from pathlib import Path

import tessera.api

API_DIR = Path(tessera.api.__file__).parent


def orm_uses(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and node.attr == "objects":
            found.append(f"{path.name}:{node.lineno}")
    return found


def test_no_api_module_queries_the_orm_directly():
    offenders = [use for path in sorted(API_DIR.rglob("*.py")) for use in orm_uses(path)]
    assert offenders == []
