"""The example apps' own tests (written as an application developer would, with
tessera_client.testing and no Tessera running) pass. Each runs in its own pytest process: the
Django one needs its own settings module."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize(
    ("directory", "target"),
    [(EXAMPLES, "test_fastapi_app.py"), (EXAMPLES / "django_app", "test_docservice.py")],
    ids=["fastapi", "django"],
)
def test_the_example_apps_tests_pass(directory: Path, target: str):
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", target],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "skipped" not in done.stdout
