"""The shape of the package is kept by tools: layers (import-linter) and no imports hidden in
functions (an import placed inside a function is how a cycle or an upward import hides)."""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import tessera

ROOT = Path(tessera.__file__).parent
REPO = ROOT.parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _in_function_imports(path: Path) -> list[int]:
    """Line numbers of imports inside functions, except under `if TYPE_CHECKING:` and in an
    `AppConfig.ready()` (Django imports models only after every app is loaded: that is where a
    module that imports models is wired to the layers below it)."""
    tree = ast.parse(path.read_text())
    found: list[int] = []

    def visit(node: ast.AST, in_function: bool, allowed: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                ready = child.name == "ready" and path.name == "apps.py"
                visit(child, True, allowed or ready)
            elif isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                visit(child, in_function, True)
            elif isinstance(child, ast.Import | ast.ImportFrom):
                if in_function and not allowed:
                    found.append(child.lineno)
            else:
                visit(child, in_function, allowed)

    visit(tree, False, False)
    return found


def test_no_import_is_placed_inside_a_function():
    offenders = {}
    for path in sorted(ROOT.rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        if "/migrations/" in f"/{name}":
            continue
        lines = _in_function_imports(path)
        if lines:
            offenders[name] = lines
    assert offenders == {}, f"imports inside functions (move them to the top): {offenders}"


def test_the_checker_finds_an_import_inside_a_function(tmp_path):
    module = tmp_path / "probe.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    import os\n"
        "def f():\n    from tessera.api import app\n    return app\n"
    )
    assert _in_function_imports(module) == [5]


def _lint_imports(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree / "src"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def source_copy(tmp_path_factory) -> Path:
    tree = tmp_path_factory.mktemp("layers")
    shutil.copytree(ROOT, tree / "src" / "tessera", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tree / "pyproject.toml")
    return tree


def test_the_layers_contract_holds(source_copy):
    result = _lint_imports(source_copy)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("probe", "refusal"),
    [
        # a lower layer importing a higher one
        (
            "from tessera.authn.sessions import session_revoke\n",
            "tessera.identity.upward_probe -> tessera.authn.sessions",
        ),
        # tenancy already imports identity: identity importing tenancy back closes a cycle
        (
            "from tessera.tenancy.models import Tenant\n",
            "tessera.identity is not allowed to import tessera.tenancy",
        ),
    ],
    ids=["upward", "cycle"],
)
def test_the_layers_contract_refuses_an_upward_import_and_a_cycle(source_copy, probe, refusal):
    bad = source_copy / "src" / "tessera" / "identity" / "upward_probe.py"
    bad.write_text(probe)
    try:
        result = _lint_imports(source_copy)
    finally:
        bad.unlink()
    assert result.returncode != 0
    assert refusal in result.stdout


MAX_MODULE_LINES = 400


def test_no_module_is_longer_than_it_can_be_read():
    """Issue 13: a module holds one thing; above 400 lines it holds several (migrations aside)."""
    long = {
        str(path.relative_to(ROOT)): lines
        for path in ROOT.rglob("*.py")
        if "migrations" not in path.parts
        and (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}
