"""Reading and checking the environment that settings are made of (no Django imports)."""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path
from urllib.parse import unquote, urlsplit

WEAK_KEY_MIN_LENGTH = 50
WEAK_KEY_MIN_UNIQUE = 5
DEV_KEY_PREFIX = "django-insecure"


class ConfigurationError(Exception):
    """The environment describes a configuration Tessera refuses to run with."""


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigurationError(f"{name} must be a boolean (1/0, true/false), not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be an integer, not {raw!r}") from None


def cidr_list(name: str, raw: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Comma-separated networks (`10.0.0.0/8, 127.0.0.1`); a bare address is a /32 or /128."""
    networks = []
    for item in raw.split(","):
        if item.strip():
            try:
                networks.append(ipaddress.ip_network(item.strip(), strict=False))
            except ValueError:
                raise ConfigurationError(f"{name}: {item.strip()!r} is not a network") from None
    return tuple(networks)


def log_format_setting(raw: str | None, *, production: bool) -> str:
    """`TESSERA_LOG_FORMAT`: json or plain; json by default in production, plain otherwise."""
    value = (raw or "").strip().lower() or ("json" if production else "plain")
    if value not in {"json", "plain"}:
        raise ConfigurationError(f"TESSERA_LOG_FORMAT must be json or plain, not {raw!r}")
    return value


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number, not {raw!r}") from None


def var_dir() -> Path:
    path = Path(os.environ.get("TESSERA_VAR_DIR", "var")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def is_weak_secret_key(key: str) -> bool:
    return (
        len(key) < WEAK_KEY_MIN_LENGTH
        or len(set(key)) < WEAK_KEY_MIN_UNIQUE
        or key.startswith(DEV_KEY_PREFIX)
    )


def secret_key(*, production: bool) -> str:
    """The secret key: from TESSERA_SECRET_KEY, or (development only) generated once into ./var/."""
    key = os.environ.get("TESSERA_SECRET_KEY", "")
    if production:
        if not key:
            raise ConfigurationError("TESSERA_SECRET_KEY is required when TESSERA_ENV=production")
        if is_weak_secret_key(key):
            raise ConfigurationError(
                f"TESSERA_SECRET_KEY is weak: use at least {WEAK_KEY_MIN_LENGTH} random characters"
            )
        return key
    if key:
        return key
    path = var_dir() / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


def check_production(*, debug: bool, cookies_secure: bool) -> None:
    """Refuse the settings that are unsafe in production."""
    if debug:
        raise ConfigurationError("TESSERA_DEBUG cannot be on when TESSERA_ENV=production")
    if not cookies_secure:
        raise ConfigurationError("TESSERA_SECURE_COOKIES cannot be off when TESSERA_ENV=production")


SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
CONSOLE_BACKEND = "django.core.mail.backends.console.EmailBackend"
NON_DELIVERING_BACKENDS = frozenset(
    {
        CONSOLE_BACKEND,
        "django.core.mail.backends.locmem.EmailBackend",
        "django.core.mail.backends.dummy.EmailBackend",
        "django.core.mail.backends.filebased.EmailBackend",
    }
)


def email_settings(*, production: bool) -> dict[str, object]:
    """Django's EMAIL_* settings from the environment.

    `TESSERA_EMAIL_URL` (`smtp://user:pass@host:25`, `smtp+tls://…:587` for STARTTLS,
    `smtps://…:465` for implicit TLS), or `TESSERA_EMAIL_HOST` with `TESSERA_EMAIL_PORT` (587),
    `TESSERA_EMAIL_USER`, `TESSERA_EMAIL_PASSWORD`, `TESSERA_EMAIL_USE_TLS` (on) and
    `TESSERA_EMAIL_USE_SSL` (off). `TESSERA_EMAIL_BACKEND` names another backend. Without any of
    them mail goes to the console — in development only: production refuses to start with a
    backend that delivers nothing (console, locmem, dummy, file), since reset links would be
    written to the log.
    """

    url = os.environ.get("TESSERA_EMAIL_URL", "").strip()
    host = os.environ.get("TESSERA_EMAIL_HOST", "").strip()
    values: dict[str, object] = {}
    if url:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in {"smtp", "smtp+tls", "smtps"} or not parts.hostname:
            raise ConfigurationError(
                "TESSERA_EMAIL_URL must look like smtp://, smtp+tls:// or smtps://user:pass@host:port"
            )
        try:
            port = parts.port
        except ValueError:
            raise ConfigurationError("TESSERA_EMAIL_URL has an invalid port") from None
        values = {
            "EMAIL_HOST": parts.hostname,
            "EMAIL_PORT": port or {"smtp": 25, "smtp+tls": 587, "smtps": 465}[scheme],
            "EMAIL_HOST_USER": unquote(parts.username or ""),
            "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
            "EMAIL_USE_TLS": scheme == "smtp+tls",
            "EMAIL_USE_SSL": scheme == "smtps",
        }
    elif host:
        values = {
            "EMAIL_HOST": host,
            "EMAIL_PORT": env_int("TESSERA_EMAIL_PORT", 587),
            "EMAIL_HOST_USER": os.environ.get("TESSERA_EMAIL_USER", ""),
            "EMAIL_HOST_PASSWORD": os.environ.get("TESSERA_EMAIL_PASSWORD", ""),
            "EMAIL_USE_TLS": env_bool("TESSERA_EMAIL_USE_TLS", default=True),
            "EMAIL_USE_SSL": env_bool("TESSERA_EMAIL_USE_SSL", default=False),
        }
    if values.get("EMAIL_USE_TLS") and values.get("EMAIL_USE_SSL"):
        raise ConfigurationError(
            "TESSERA_EMAIL_USE_TLS and TESSERA_EMAIL_USE_SSL exclude each other"
        )
    backend = os.environ.get("TESSERA_EMAIL_BACKEND", "").strip() or (
        SMTP_BACKEND if values else CONSOLE_BACKEND
    )
    if production and backend in NON_DELIVERING_BACKENDS:
        raise ConfigurationError(
            f"TESSERA_ENV=production needs a real email backend, not {backend.rsplit('.', 2)[-2]}: "
            "set TESSERA_EMAIL_URL (smtp+tls://user:pass@host:587) or TESSERA_EMAIL_HOST"
        )
    if backend == SMTP_BACKEND and not values:
        raise ConfigurationError(
            "the SMTP email backend needs TESSERA_EMAIL_URL or TESSERA_EMAIL_HOST"
        )
    return {
        "EMAIL_BACKEND": backend,
        "EMAIL_TIMEOUT": env_int("TESSERA_EMAIL_TIMEOUT", 10),
        **values,
    }
