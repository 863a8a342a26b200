"""Log formats: one JSON object per line (production), or a line for people (development).

`TESSERA_LOG_FORMAT=json|plain` picks one (json by default when `TESSERA_ENV=production`). Both
print the request id; the JSON line also carries the tenant, principal, route, method, status and
duration when the record has them (`tessera.request_log`). The credential redaction filter
(`tessera.api.access_log`) runs before either formatter sees a record.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

LOG_FORMATS = ("json", "plain")
PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
OPTIONAL_FIELDS = (
    "tenant",
    "principal_id",
    "principal_type",
    "route",
    "path",
    "method",
    "status",
    "duration_ms",
)


class JsonFormatter(logging.Formatter):
    """`{"timestamp", "level", "logger", "message", "request_id", ...}` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": _or_none(getattr(record, "request_id", None)),
        }
        for name in OPTIONAL_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                body[name] = value
        if record.exc_info:
            body["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            body["stack"] = self.formatStack(record.stack_info)
        return json.dumps(body, default=str, ensure_ascii=False)


class PlainFormatter(logging.Formatter):
    """The development line; a record without a request id prints `-`."""

    def __init__(self) -> None:
        super().__init__(PLAIN_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "request_id", None) is None:
            record.request_id = "-"
        return super().format(record)


def _or_none(value: Any) -> Any:
    return None if value in (None, "-") else value


def formatter_config(log_format: str) -> dict[str, Any]:
    """The `logging.config.dictConfig` entry of a formatter for `log_format`."""
    if log_format == "json":
        return {"()": "tessera.log_format.JsonFormatter"}
    return {"()": "tessera.log_format.PlainFormatter"}
