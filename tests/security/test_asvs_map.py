"""docs/security/asvs.md stays true: every test it names exists, and its counts add up; every test
the threat model names exists too."""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAP = ROOT / "docs" / "security" / "asvs.md"
THREAT_MODEL = ROOT / "docs" / "security" / "threat-model.md"
ROW = re.compile(r"^\| V(\d+\.\d+\.\d+) \| ([12]) \| .* \| (mapped|N/A|gap) \| (.*) \|$")
REFERENCE = re.compile(r"(tests/[\w/]+\.py)::(\w+)")


def rows() -> list[tuple[str, str, str, str]]:
    return [m.groups() for line in MAP.read_text().splitlines() if (m := ROW.match(line))]


def test_every_named_test_exists():
    defined: dict[str, set[str]] = {}
    missing = []
    for req, _, _, evidence in rows():
        for path, name in REFERENCE.findall(evidence):
            if path not in defined:
                source = (ROOT / path).read_text() if (ROOT / path).exists() else ""
                defined[path] = {
                    node.name
                    for node in ast.walk(ast.parse(source))
                    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                }
            if name not in defined[path]:
                missing.append(f"V{req}: {path}::{name}")
    assert not missing, missing


def test_mapped_rows_name_a_test_and_the_others_a_reason():
    for req, _, status, evidence in rows():
        if status == "mapped":
            assert REFERENCE.search(evidence), req
        else:
            prefix = "gap: " if status == "gap" else "not applicable: "
            assert evidence.startswith(prefix), req


def test_the_counts_at_the_top_add_up():
    found = rows()
    assert len({r[0] for r in found}) == len(found)
    counts = Counter(status for _, _, status, _ in found)
    text = MAP.read_text()
    expected = (
        f"**Counts: {len(found)} requirements — {counts['mapped']} mapped, "
        f"{counts['N/A']} not applicable, {counts['gap']} gaps.**"
    )
    assert expected in text
    gaps = ", ".join(f"V{r[0]}" for r in found if r[2] == "gap")
    if gaps:
        assert f"Gaps (issue 12 in progress unless said otherwise): {gaps}." in text
    else:
        assert "No gaps: every requirement is mapped" in text and "Gaps (" not in text


def test_each_chapters_counts_add_up():
    text = MAP.read_text()
    for heading in re.findall(r"^## (V\d+) [^(]+\((.*)\)$", text, re.M):
        chapter, summary = heading
        found = [r for r in rows() if r[0].startswith(chapter[1:] + ".")]
        counts = Counter(status for _, _, status, _ in found)
        expected = (
            f"{len(found)}: {counts['mapped']} mapped, {counts['N/A']} N/A, {counts['gap']} gaps"
        )
        assert summary == expected, chapter


def test_every_test_the_threat_model_names_exists():
    names = set(re.findall(r"`(test_\w+)`", THREAT_MODEL.read_text()))
    defined = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        defined |= set(re.findall(r"^(?:async )?def (test_\w+)\(", path.read_text(), re.M))
    assert names and not names - defined, sorted(names - defined)
