"""docs/api.md is the HTTP reference: it names every served operation, and only served ones.

Every `METHOD /path` the page names (in backticks) is an operation of the served OpenAPI document
(or, outside /api/v1, a route of the URL map such as /healthz); every operation of the document
is named on the page. Path parameter names are normalised (`{id}` and `{user_id}` are the same).
The page stands on its own: its links stay inside the repository.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import Resolver404, resolve

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "api.md"
OPERATION = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`?\s]*)")
PARAMETER = re.compile(r"\{[^}/]*\}")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def normalise(path: str) -> str:
    return PARAMETER.sub("{}", path)


@pytest.fixture
def document(client, db):
    return client.get("/api/openapi.json").json()


@pytest.fixture
def text():
    return REFERENCE.read_text(encoding="utf-8")


def served(document) -> set[tuple[str, str]]:
    return {
        (method.upper(), normalise(path))
        for path, operations in document["paths"].items()
        for method in operations
    }


def named(text: str) -> set[tuple[str, str]]:
    return {(method, normalise(path)) for method, path in OPERATION.findall(text)}


def test_every_operation_the_reference_names_is_served(document, text):
    names = named(text)
    assert len(names) > 50
    operations = served(document)
    for method, path in sorted(names):
        if path.startswith("/api/v1/"):
            assert (method, path) in operations, f"docs/api.md names {method} {path}: not served"
        else:
            try:
                resolve(path)
            except Resolver404:
                pytest.fail(f"docs/api.md names {method} {path}: no such route")


def test_every_served_operation_is_in_the_reference(document, text):
    missing = sorted(served(document) - named(text))
    assert not missing, f"operations missing from docs/api.md: {missing}"


def test_what_is_not_yet_served_is_not_served(document, text):
    section = text.split("## Not yet served", 1)[1].split("\n## ", 1)[0]
    prefixes = [p.rstrip("…/") for p in re.findall(r"`(/api/v1/[^`]+)`", section)]
    for prefix in prefixes:
        assert not [p for p in document["paths"] if p.startswith(prefix)], prefix


def test_the_reference_points_nowhere_outside_the_repository(text):
    assert "shared/API.md" not in text
    assert not re.search(r"(?<![\w.])/(work|home|tmp|opt)/", text)
    assert "file://" not in text
    for target in LINK.findall(text):
        if "://" in target:
            continue
        resolved = (REFERENCE.parent / target).resolve()
        assert resolved.is_relative_to(ROOT), target
        assert resolved.exists(), target
