"""Production settings refuse an insecure configuration; `check --deploy` is clean when secure."""

import os
import secrets
import subprocess
import sys

import pytest

from tessera.config import ConfigurationError, check_production, is_weak_secret_key, secret_key

STRONG = secrets.token_urlsafe(64)


def run_settings(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TESSERA_", "DJANGO_"))}
    base.update({"TESSERA_VAR_DIR": "/tmp/tessera-settings-test", "PYTHONPATH": "src", **env})
    code = args or (
        "-c",
        "import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'tessera.settings'; "
        "django.setup()",
    )
    return subprocess.run(
        [sys.executable, *code], env=base, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TESSERA_ENV": "production"}, "TESSERA_SECRET_KEY is required"),
        ({"TESSERA_ENV": "production", "TESSERA_SECRET_KEY": "short"}, "weak"),
        ({"TESSERA_ENV": "production", "TESSERA_SECRET_KEY": "a" * 80}, "weak"),
        (
            {"TESSERA_ENV": "production", "TESSERA_SECRET_KEY": STRONG, "TESSERA_DEBUG": "1"},
            "DEBUG",
        ),
        (
            {
                "TESSERA_ENV": "production",
                "TESSERA_SECRET_KEY": STRONG,
                "TESSERA_SECURE_COOKIES": "0",
            },
            "SECURE_COOKIES",
        ),
    ],
)
def test_production_refuses_insecure_configuration(env, message):
    result = run_settings(env)
    assert result.returncode != 0
    assert message in result.stderr


def test_production_with_a_strong_key_passes_check_deploy():
    env = {
        "TESSERA_ENV": "production",
        "TESSERA_SECRET_KEY": STRONG,
        "TESSERA_ALLOWED_HOSTS": "iam.example.com",
    }
    result = run_settings(env, "-m", "tessera.cli", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_weak_keys_are_recognized():
    assert is_weak_secret_key("django-insecure-" + "x" * 60)
    assert not is_weak_secret_key(STRONG)


def test_development_generates_a_secret_key_once(tmp_path, monkeypatch):
    monkeypatch.setenv("TESSERA_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("TESSERA_SECRET_KEY", raising=False)
    first = secret_key(production=False)
    assert secret_key(production=False) == first and len(first) >= 50


def test_check_production_flags():
    with pytest.raises(ConfigurationError):
        check_production(debug=True, cookies_secure=True)
    check_production(debug=False, cookies_secure=True)
