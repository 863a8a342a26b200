"""The leaf operators of conditions, each compiled from its JSON arguments into a closure.

Every builder validates its arguments (raising `ConditionError` naming the node) and returns a test
`(subject, resource, context) -> bool` that never raises: missing values and type mismatches make
it false. The calendar operators live in `clock`. See docs/engine.md for each operator's JSON form
and meaning.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from typing import Any, Final

from tessera.engine.clock import (
    build_business_days,
    build_time_between,
    build_weekday_in,
    build_working_hours,
)
from tessera.engine.errors import ConditionError
from tessera.engine.model import Context, Resource, Subject
from tessera.engine.operands import (
    MISSING,
    Operand,
    Test,
    compare,
    compile_operand,
    contains,
    equal,
    kind,
)
from tessera.engine.qualifications import (
    Detail,
    build_has_qualification,
    build_qualification_detail,
)

Builder = Callable[[str, Any, str], Test]


# --- argument parsing ---------------------------------------------------------------------------


def _operands(op: str, args: Any, where: str, count: int) -> list[Operand]:
    if not isinstance(args, list) or len(args) != count:
        raise ConditionError.at(f"{op!r} expects a list of {count} operands", where)
    return [compile_operand(arg, f"{where}.{op}[{i}]") for i, arg in enumerate(args)]


def _expect_true(op: str, args: Any, where: str) -> None:
    if args is not True:
        raise ConditionError.at(f"{op!r} expects true (negate with {{'not': ...}})", where)


# --- comparisons --------------------------------------------------------------------------------


def _build_eq(op: str, args: Any, where: str) -> Test:
    left, right = _operands(op, args, where, 2)
    get_a, get_b = left.get, right.get
    negate = op == "ne"

    def test(subject: Subject, resource: Resource | None, context: Context) -> bool:
        a = get_a(subject, resource, context)
        b = get_b(subject, resource, context)
        if a is MISSING or b is MISSING:
            return False
        if negate:
            return kind(a) == kind(b) != "other" and not equal(a, b)
        return equal(a, b)

    return test


_ORDER_OK: Final[Mapping[str, frozenset[int]]] = {
    "lt": frozenset({-1}),
    "lte": frozenset({-1, 0}),
    "gt": frozenset({1}),
    "gte": frozenset({1, 0}),
}


def _build_order(op: str, args: Any, where: str) -> Test:
    left, right = _operands(op, args, where, 2)
    get_a, get_b = left.get, right.get
    accepted = _ORDER_OK[op]

    def test(subject: Subject, resource: Resource | None, context: Context) -> bool:
        a = get_a(subject, resource, context)
        b = get_b(subject, resource, context)
        if a is MISSING or b is MISSING:
            return False
        return compare(a, b) in accepted

    return test


def _build_in(op: str, args: Any, where: str) -> Test:
    item, container = _operands(op, args, where, 2)
    get_item, get_container = item.get, container.get
    if container.path is None and kind(container.literal) != "seq":
        raise ConditionError.at(f"{op!r} expects a list as its second operand", where)
    negate = op == "not_in"

    def test(subject: Subject, resource: Resource | None, context: Context) -> bool:
        value = get_item(subject, resource, context)
        collection = get_container(subject, resource, context)
        if value is MISSING or collection is MISSING:
            return False
        found = contains(collection, value)
        if found is None:
            return False
        return found != negate

    return test


# --- network ---------------------------------------------------------------------------------

Address = IPv4Address | IPv6Address


@lru_cache(maxsize=4096)
def parse_ip(text: str) -> tuple[Address, IPv4Address | None] | None:
    """An IP address and, for an IPv4-mapped IPv6 one, its IPv4 form; None if unparsable.

    Cached (bounded): parsing costs more than the rest of a typical check.
    """
    try:
        ip = ip_address(text)
    except ValueError:
        return None
    return ip, getattr(ip, "ipv4_mapped", None)


def _build_cidr(op: str, args: Any, where: str) -> Test:
    if not isinstance(args, list) or len(args) != 2:
        raise ConditionError.at("'cidr' expects [address operand, [network, ...]]", where)
    address = compile_operand(args[0], f"{where}.cidr[0]")
    blocks = args[1] if isinstance(args[1], list) else [args[1]]
    if not blocks:
        raise ConditionError.at("'cidr' needs at least one network", where)
    networks: list[IPv4Network | IPv6Network] = []
    for i, block in enumerate(blocks):
        try:
            if not isinstance(block, str):
                raise ValueError(block)
            networks.append(ip_network(block, strict=False))
        except ValueError:
            raise ConditionError.at(f"bad CIDR {block!r}", f"{where}.cidr[1][{i}]") from None
    get_address = address.get
    nets = tuple(networks)

    def test(subject: Subject, resource: Resource | None, context: Context) -> bool:
        value = get_address(subject, resource, context)
        if not isinstance(value, str):
            return False
        parsed = parse_ip(value)
        if parsed is None:
            return False
        ip, mapped = parsed
        return any(ip in net or (mapped is not None and mapped in net) for net in nets)

    return test


# --- organisation -------------------------------------------------------------------------------


def _user_operand(op: str, args: Any, where: str) -> Operand:
    operand = compile_operand(args, f"{where}.{op}")
    if operand.path is None and not isinstance(operand.literal, str):
        raise ConditionError.at(f"{op!r} expects a path or a user id", where)
    return operand


def _build_reports_to(op: str, args: Any, where: str) -> Test:
    manager = _user_operand(op, args, where).get

    def test(subject: Subject, resource: Resource | None, context: Context) -> bool:
        user = manager(subject, resource, context)
        return isinstance(user, str) and user in subject.manager_chain

    return test


def _build_in_org_tree(op: str, args: Any, where: str) -> Test:
    member = _user_operand(op, args, where).get

    def test(subject: Subject, resource: Resource | None, context: Context) -> bool:
        user = member(subject, resource, context)
        return isinstance(user, str) and (user == subject.user_id or user in subject.team)

    return test


def _build_same_department(op: str, args: Any, where: str) -> Test:
    _expect_true(op, args, where)

    def test(subject: Subject, resource: Resource | None, context: Context) -> bool:
        return (
            resource is not None
            and subject.department is not None
            and resource.department == subject.department
        )

    return test


def _build_exists(op: str, args: Any, where: str) -> Test:
    operand = compile_operand(args, f"{where}.{op}")
    if operand.path is None:
        raise ConditionError.at("'exists' expects a path", where)
    get = operand.get

    def test(subject: Subject, resource: Resource | None, context: Context) -> bool:
        return get(subject, resource, context) is not MISSING

    return test


# --- request and subject facts ------------------------------------------------------------------


def _build_risk_below(op: str, args: Any, where: str) -> Test:
    if kind(args) != "number":
        raise ConditionError.at("'risk_below' expects a number", where)
    limit = args

    def test(subject: Subject, resource: Resource | None, context: Context) -> bool:
        score = context.risk_score
        return kind(score) == "number" and score < limit

    return test


def _build_context_flag(op: str, args: Any, where: str) -> Test:
    _expect_true(op, args, where)
    name = "mfa_verified" if op == "mfa_verified" else "device_trusted"

    def test(subject: Subject, resource: Resource | None, context: Context) -> bool:
        return getattr(context, name) is True

    return test


def _build_gdpr_consented(op: str, args: Any, where: str) -> Test:
    _expect_true(op, args, where)

    def test(subject: Subject, resource: Resource | None, context: Context) -> bool:
        return bool(subject.attributes.get("gdpr_consented"))

    return test


def _build_classification_lte(op: str, args: Any, where: str) -> Test:
    _expect_true(op, args, where)

    def test(subject: Subject, resource: Resource | None, context: Context) -> bool:
        if resource is None:
            return False
        level = resource.attributes.get("classification")
        return compare(level, subject.clearance_level) in (-1, 0)

    return test


OPERATORS: Final[Mapping[str, Builder]] = {
    "eq": _build_eq,
    "ne": _build_eq,
    "lt": _build_order,
    "lte": _build_order,
    "gt": _build_order,
    "gte": _build_order,
    "in": _build_in,
    "not_in": _build_in,
    "cidr": _build_cidr,
    "time_between": build_time_between,
    "weekday_in": build_weekday_in,
    "business_days": build_business_days,
    "working_hours": build_working_hours,
    "reports_to": _build_reports_to,
    "in_org_tree": _build_in_org_tree,
    "same_department": _build_same_department,
    "exists": _build_exists,
    "risk_below": _build_risk_below,
    "mfa_verified": _build_context_flag,
    "trusted_device": _build_context_flag,
    "gdpr_consented": _build_gdpr_consented,
    "classification_lte": _build_classification_lte,
    "has_qualification": build_has_qualification,
}
"""Every leaf operator by name. `all`, `any` and `not` are handled by the compiler."""

DETAILS: Final[Mapping[str, Callable[[str, Any, str], Detail]]] = {
    "has_qualification": build_qualification_detail,
}
"""Operators whose explanation carries a sentence (`ConditionResult.detail`) besides the result."""
