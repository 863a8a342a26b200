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
        "TESSERA_EMAIL_URL": "smtp+tls://mailer:s3cret@smtp.example.com:587",
    }
    result = run_settings(env, "-m", "tessera.cli", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


PRODUCTION = {"TESSERA_ENV": "production", "TESSERA_SECRET_KEY": STRONG}


@pytest.mark.parametrize(
    "backend",
    [
        "",
        "django.core.mail.backends.console.EmailBackend",
        "django.core.mail.backends.locmem.EmailBackend",
        "django.core.mail.backends.filebased.EmailBackend",
    ],
)
def test_attack_production_refuses_to_start_with_mail_to_the_console(backend):
    result = run_settings({**PRODUCTION, "TESSERA_EMAIL_BACKEND": backend})
    assert result.returncode != 0
    assert "needs a real email backend" in result.stderr


def test_production_check_deploy_errors_without_a_mail_server():
    result = run_settings(
        {**PRODUCTION, "TESSERA_ALLOWED_HOSTS": "iam.example.com"},
        "-m",
        "tessera.cli",
        "check",
        "--deploy",
    )
    assert result.returncode != 0
    assert "TESSERA_EMAIL_URL" in result.stderr


SHOW_EMAIL = (
    "-c",
    "import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'tessera.settings'; "
    "django.setup(); from django.conf import settings as s; "
    "print(s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_HOST_USER, "
    "s.EMAIL_HOST_PASSWORD, s.EMAIL_USE_TLS, s.EMAIL_USE_SSL)",
)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"TESSERA_EMAIL_URL": "smtp+tls://mailer:p%40ss@smtp.example.com"},
            "smtp.EmailBackend smtp.example.com 587 mailer p@ss True False",
        ),
        (
            {"TESSERA_EMAIL_URL": "smtps://smtp.example.com"},
            "smtp.EmailBackend smtp.example.com 465   False True",
        ),
        (
            {
                "TESSERA_EMAIL_HOST": "mail.example.com",
                "TESSERA_EMAIL_USER": "u",
                "TESSERA_EMAIL_PASSWORD": "pw",
            },
            "smtp.EmailBackend mail.example.com 587 u pw True False",
        ),
    ],
)
def test_production_takes_smtp_from_the_environment(env, expected):
    result = run_settings({**PRODUCTION, **env}, *SHOW_EMAIL)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(expected.split(" ", 1)[1])
    assert result.stdout.startswith("django.core.mail.backends." + expected.split(" ", 1)[0])


@pytest.mark.parametrize(
    "env",
    [
        {"TESSERA_EMAIL_URL": "http://smtp.example.com"},
        {"TESSERA_EMAIL_URL": "smtp://smtp.example.com:notaport"},
        {"TESSERA_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend"},
    ],
)
def test_bad_mail_settings_are_refused(env):
    assert run_settings({**PRODUCTION, **env}).returncode != 0


def test_development_still_prints_mail_to_the_console():
    result = run_settings({}, *SHOW_EMAIL)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("django.core.mail.backends.console.EmailBackend")


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
