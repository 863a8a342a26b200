"""Reading and checking the environment that settings are made of (no Django imports)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

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
