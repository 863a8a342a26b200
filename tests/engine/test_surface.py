"""The engine's public surface, and its independence from Django and third-party packages."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import tessera.engine as engine

SRC = Path(__file__).resolve().parents[2] / "src"
ENGINE = SRC / "tessera" / "engine"

PUBLIC = {
    "COMPILED_FORMAT",
    "MAX_CONDITION_DEPTH",
    "MAX_CONDITION_SIZE",
    "OPERATORS",
    "CompiledPolicy",
    "Condition",
    "ConditionError",
    "ConditionResult",
    "Context",
    "Decision",
    "DelegatedRules",
    "Effect",
    "Entitlement",
    "EvaluatedRule",
    "FieldAccess",
    "FieldSets",
    "GrantSpec",
    "HeldRole",
    "MatchedRule",
    "PermissionSource",
    "PolicyError",
    "PolicyInput",
    "Qualification",
    "Resource",
    "RoleDef",
    "RuleLike",
    "RuleSource",
    "RuleSpec",
    "Scope",
    "Subject",
    "compile_condition",
    "compile_policy",
    "decide",
    "effective_permissions",
    "field_access",
    "find_role_cycle",
    "permission_covers",
    "permission_meet",
    "qualification_outcome",
    "rule_from_json",
    "rules_within",
    "scope_covers",
    "scopes_not_held",
    "validate_permission",
    "validate_rule",
}


def test_the_public_names_are_exactly_the_documented_ones():
    assert set(engine.__all__) == PUBLIC
    assert all(hasattr(engine, name) for name in engine.__all__)


def test_importing_the_engine_loads_no_django():
    code = (
        "import sys, tessera.engine\n"
        "loaded = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))\n"
        "assert not loaded, loaded\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_the_engine_source_imports_only_the_standard_library_and_itself():
    for module in sorted(ENGINE.glob("*.py")):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"{module.name}: use absolute imports"
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert name.startswith("tessera.engine") or top in sys.stdlib_module_names, (
                    f"{module.name} imports {name}"
                )


def test_the_operator_table_lists_every_documented_operator():
    documented = {
        "eq",
        "ne",
        "in",
        "not_in",
        "lt",
        "lte",
        "gt",
        "gte",
        "cidr",
        "time_between",
        "weekday_in",
        "business_days",
        "working_hours",
        "reports_to",
        "in_org_tree",
        "same_department",
        "risk_below",
        "mfa_verified",
        "trusted_device",
        "gdpr_consented",
        "classification_lte",
        "has_qualification",
        "exists",
    }
    assert set(engine.OPERATORS) == documented
    docs = (Path(__file__).resolve().parents[2] / "docs" / "engine.md").read_text("utf-8")
    for name in documented | {"all", "any", "not"}:
        assert f"`{name}`" in docs, f"docs/engine.md does not describe {name}"
