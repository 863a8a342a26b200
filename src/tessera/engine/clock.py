"""Calendar and clock operators of conditions: `time_between`, `weekday_in`, `business_days`,
`working_hours`. All read `context.now` in UTC or in a named IANA time zone."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, time, tzinfo
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tessera.engine.errors import ConditionError
from tessera.engine.model import Context, Resource, Subject
from tessera.engine.operands import Test

_TIME = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9]))?")
_TZ_NAME = re.compile(r"[A-Za-z0-9_+\-/]{1,64}")
DEFAULT_WORK_START: Final = "09:00"
DEFAULT_WORK_END: Final = "17:00"


def parse_time(text: Any, where: str) -> time:
    """`HH:MM` or `HH:MM:SS`, 24-hour clock."""
    match = _TIME.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ConditionError.at(f"bad time {text!r} (expected 'HH:MM' or 'HH:MM:SS')", where)
    hour, minute, second = match.groups()
    return time(int(hour), int(minute), int(second or 0))


def parse_timezone(name: Any, where: str) -> tzinfo:
    """An IANA time zone name (`Europe/Berlin`, `UTC`)."""
    if name == "UTC":
        return UTC
    if isinstance(name, str) and _TZ_NAME.fullmatch(name):
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
    raise ConditionError.at(f"unknown time zone {name!r}", where)


def _options(op: str, args: Any, where: str, allowed: frozenset[str]) -> Mapping[str, Any]:
    if args is True:
        return {}
    if not isinstance(args, dict):
        raise ConditionError.at(f"{op!r} expects true or an object", where)
    unknown = sorted(set(args) - allowed)
    if unknown:
        raise ConditionError.at(f"{op!r} does not take {', '.join(map(repr, unknown))}", where)
    return args


def _window(start: time, end: time, where: str) -> Callable[[time], bool]:
    if start == end:
        raise ConditionError.at("empty time window (start equals end)", where)
    if start < end:
        return lambda t: start <= t < end
    return lambda t: t >= start or t < end  # crosses midnight


def build_time_between(op: str, args: Any, where: str) -> Test:
    if not isinstance(args, list) or len(args) not in (2, 3):
        raise ConditionError.at(
            "'time_between' expects ['HH:MM', 'HH:MM'] or ['HH:MM', 'HH:MM', 'Zone/Name']", where
        )
    inside = _window(parse_time(args[0], where), parse_time(args[1], where), where)
    zone = parse_timezone(args[2] if len(args) == 3 else "UTC", where)

    def test(subject: Subject, resource: Resource | None, context: Context) -> bool:
        return inside(context.now.astimezone(zone).time())

    return test


def _weekdays(days: Any, where: str) -> frozenset[int]:
    if (
        not isinstance(days, list)
        or not days
        or not all(type(day) is int and 0 <= day <= 6 for day in days)
    ):
        raise ConditionError.at(
            "weekdays must be a non-empty list of integers 0 (Monday) to 6 (Sunday)", where
        )
    return frozenset(days)


def build_weekday_in(op: str, args: Any, where: str) -> Test:
    if isinstance(args, dict):
        options = _options(op, args, where, frozenset({"days", "tz"}))
        days = _weekdays(options.get("days"), where)
        zone = parse_timezone(options.get("tz", "UTC"), where)
    else:
        days = _weekdays(args, where)
        zone = UTC

    def test(subject: Subject, resource: Resource | None, context: Context) -> bool:
        return context.now.astimezone(zone).weekday() in days

    return test


def build_business_days(op: str, args: Any, where: str) -> Test:
    options = _options(op, args, where, frozenset({"tz"}))
    zone = parse_timezone(options.get("tz", "UTC"), where)

    def test(subject: Subject, resource: Resource | None, context: Context) -> bool:
        return context.now.astimezone(zone).weekday() < 5

    return test


def build_working_hours(op: str, args: Any, where: str) -> Test:
    options = _options(op, args, where, frozenset({"start", "end", "tz"}))
    start = parse_time(options.get("start", DEFAULT_WORK_START), where)
    end = parse_time(options.get("end", DEFAULT_WORK_END), where)
    inside = _window(start, end, where)
    zone = parse_timezone(options.get("tz", "UTC"), where)

    def test(subject: Subject, resource: Resource | None, context: Context) -> bool:
        local = context.now.astimezone(zone)
        return local.weekday() < 5 and inside(local.time())

    return test
