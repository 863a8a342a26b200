"""The access log never prints credentials: query-string values of credential-like parameters
are replaced by `[REDACTED]` in every log line (uvicorn's access and WebSocket lines, Django's).

A parameter is credential-like when its name contains one of `CREDENTIAL_WORDS` (`token`,
`ticket`, `code`, `password`, `secret`, `key`, …): `?ticket=wst_…` becomes `?ticket=[REDACTED]`,
`?api_key=…&page=2` keeps `page=2`. The filter is installed on uvicorn's handlers by
`tessera serve` (`uvicorn_log_config`) and on the console handler of the Django settings.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

from uvicorn.config import LOGGING_CONFIG

from tessera.log_format import formatter_config

CREDENTIAL_WORDS = (
    "token",
    "ticket",
    "code",
    "password",
    "passwd",
    "secret",
    "key",
    "signature",
    "sig",
    "otp",
    "session",
    "auth",
    "jwt",
    "credential",
)
REDACTED = "[REDACTED]"
_PARAM = re.compile(
    r"(?P<name>[?&;][^=&;\s\"'#?]*(?:" + "|".join(CREDENTIAL_WORDS) + r")[^=&;\s\"'#?]*=)"
    r"[^&;\s\"'#]*",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """The text with the values of credential-like query parameters replaced."""
    if "=" not in text:
        return text
    return _PARAM.sub(lambda m: m.group("name") + REDACTED, text)


def _redact_arg(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


class RedactCredentialsFilter(logging.Filter):
    """Rewrites the record's message and arguments before any formatter sees them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_arg(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _redact_arg(v) for k, v in record.args.items()}
        return True


FILTER_CONFIG = {"()": "tessera.api.access_log.RedactCredentialsFilter"}


def uvicorn_log_config(*, log_format: str = "plain") -> dict[str, Any]:
    """uvicorn's default logging configuration with the filter on each of its handlers; with
    `log_format="json"` its lines are JSON objects like Tessera's own (tessera.log_format)."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_credentials"] = FILTER_CONFIG
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("redact_credentials")
    if log_format == "json":
        config["formatters"] = {name: formatter_config("json") for name in config["formatters"]}
    return config
