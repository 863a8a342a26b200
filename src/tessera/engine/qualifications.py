"""The `has_qualification` operator: a non-revoked qualification record valid at decision time.

    {"has_qualification": {"code": "hplc", "min_level": 3}}
    {"has_qualification": "hplc"}                       (shorthand for min_level 1)

The subject carries its records (`Subject.qualifications`, revoked ones left out when the input
is built); the test compares each record's validity window with `context.now`, so a record that
expires needs no write to stop counting. `qualification_detail` says, for explanations, which
record matched or why none did (missing, level too low, not yet valid, expired).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

from tessera.engine.errors import ConditionError
from tessera.engine.model import Context, Qualification, Resource, Subject

MIN_LEVEL: Final = 1
MAX_LEVEL: Final = 5
MAX_CODE_LENGTH: Final = 64

Test = Callable[[Subject, Resource | None, Context], bool]
Detail = Callable[[Subject, Resource | None, Context], str]


def qualification_args(args: Any, where: str) -> tuple[str, int]:
    """(code, minimum level) from the operator's JSON argument, or `ConditionError`."""
    if isinstance(args, str):
        args = {"code": args}
    if not isinstance(args, dict):
        raise ConditionError.at(
            "'has_qualification' expects {'code': <code>, 'min_level': 1-5}", where
        )
    unknown = sorted(set(args) - {"code", "min_level"})
    if unknown:
        raise ConditionError.at(f"'has_qualification' does not take {unknown[0]!r}", where)
    code = args.get("code")
    if not isinstance(code, str) or not code or len(code) > MAX_CODE_LENGTH:
        raise ConditionError.at(
            f"'has_qualification' expects a code of 1-{MAX_CODE_LENGTH} characters", where
        )
    level = args.get("min_level", MIN_LEVEL)
    if isinstance(level, bool) or not isinstance(level, int) or not MIN_LEVEL <= level <= MAX_LEVEL:
        raise ConditionError.at(
            f"'has_qualification' expects min_level between {MIN_LEVEL} and {MAX_LEVEL}", where
        )
    return code, level


def valid_at(record: Qualification, now: datetime) -> bool:
    """`valid_from <= now < valid_until`, each bound optional."""
    if record.valid_from is not None and now < record.valid_from:
        return False
    return record.valid_until is None or now < record.valid_until


def _qualified(subject: Subject, code: str, min_level: int, now: datetime) -> bool:
    for record in subject.qualifications:
        if record.code == code and record.level >= min_level and valid_at(record, now):
            return True
    return False


def build_has_qualification(op: str, args: Any, where: str) -> Test:
    code, min_level = qualification_args(args, where)

    def test(subject: Subject, resource: Resource | None, context: Context) -> bool:
        return _qualified(subject, code, min_level, context.now)

    return test


def _iso(moment: datetime | None) -> str:
    return "open" if moment is None else moment.isoformat()


def describe(code: str, min_level: int, subject: Subject, now: datetime) -> str:
    """Why the subject is or is not qualified for (code, min_level) at `now`."""
    records = [record for record in subject.qualifications if record.code == code]
    wanted = f"{code} at level >= {min_level}"
    if not records:
        return f"qualification {wanted} missing: the subject holds no {code} record"
    for record in records:
        if record.level >= min_level and valid_at(record, now):
            return f"qualified: {code} level {record.level} valid until {_iso(record.valid_until)}"
    high = [record for record in records if record.level >= min_level]
    if not high:
        best = max(record.level for record in records)
        return f"qualification {wanted} missing: the subject's {code} is level {best}"
    ended = [r.valid_until for r in high if r.valid_until is not None and r.valid_until <= now]
    if ended:
        return f"qualification {wanted} expired at {max(ended).isoformat()}"
    starts = [r.valid_from for r in high if r.valid_from is not None]
    return f"qualification {wanted} not valid before {min(starts).isoformat()}"


def build_qualification_detail(op: str, args: Any, where: str) -> Detail:
    code, min_level = qualification_args(args, where)

    def detail(subject: Subject, resource: Resource | None, context: Context) -> str:
        return describe(code, min_level, subject, context.now)

    return detail


def misplaced_qualification(tree: Any, effect: str, where: str = "condition") -> str | None:
    """The path of a `has_qualification` that could take access away, or None.

    Qualifications only ever give: in an allow rule the operator must appear un-negated, in a deny
    rule negated (`deny … unless qualified`), so that adding a record never turns an allow into
    a deny. `tree` is a compiled condition's plain JSON tree.
    """
    return _misplaced(tree, effect == "allow", where)


def _misplaced(node: Any, positive: bool, where: str) -> str | None:
    ((op, args),) = node.items()
    if op == "not":
        return _misplaced(args, not positive, f"{where}.not")
    if op in ("all", "any"):
        for i, child in enumerate(args):
            found = _misplaced(child, positive, f"{where}.{op}[{i}]")
            if found is not None:
                return found
        return None
    if op == "has_qualification" and not positive:
        return where
    return None


def qualification_outcome(tree: Any, subject: Subject, now: datetime) -> bool | None:
    """A condition's value when only its qualifications are known: True or False when the
    subject's records at `now` settle it whatever the other leaves say, None when they do not.

    For listing who may do an action without a resource or request (`subjects?action=`): a rule
    whose condition is False here cannot apply to this subject now. Three-valued (Kleene) logic
    over a compiled condition's JSON tree: other leaves are unknown.
    """
    ((op, args),) = tree.items()
    if op == "not":
        inner = qualification_outcome(args, subject, now)
        return None if inner is None else not inner
    if op in ("all", "any"):
        values = [qualification_outcome(child, subject, now) for child in args]
        settle: bool = op == "any"  # the value that decides: True for any, False for all
        if settle in values:
            return settle
        if all(value is (not settle) for value in values):
            return not settle
        return None
    if op == "has_qualification":
        code, min_level = qualification_args(args, "condition")
        return _qualified(subject, code, min_level, now)
    return None
