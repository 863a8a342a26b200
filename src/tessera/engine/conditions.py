"""Condition trees: JSON in, closures out (never `eval`), with an optional trace for explanations.

`compile_condition` first copies the tree into plain JSON values (refusing anything else, and trees
that are too deep or too large), then compiles every node into a closure once. A `Condition`
pickles as its JSON tree and is recompiled on unpickling, so compiled policies can be cached.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from copy import deepcopy
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from tessera.engine.errors import ConditionError
from tessera.engine.model import Context, Resource, Subject
from tessera.engine.operands import Test
from tessera.engine.operators import DETAILS, OPERATORS
from tessera.engine.qualifications import Detail

MAX_CONDITION_DEPTH: Final = 32
"""How deeply `all`/`any`/`not` may nest."""
MAX_CONDITION_SIZE: Final = 1000
"""How many JSON values (objects, lists, strings, numbers, ...) one tree may hold."""
MAX_STRING_LENGTH: Final = 1024
_MAX_CACHED_TEXT: Final = 4096
_MAX_JSON_DEPTH: Final = 2 * MAX_CONDITION_DEPTH + 8
COMBINATORS: Final = frozenset({"all", "any", "not"})


@dataclass(frozen=True, slots=True)
class ConditionResult:
    """One evaluated node of a condition: its operator, location, arguments (leaves) and result."""

    op: str
    path: str
    result: bool
    args: Any = None
    children: tuple[ConditionResult, ...] = ()
    detail: str | None = None
    """For operators that explain themselves (`has_qualification`): what was found."""

    def to_json(self) -> dict[str, Any]:
        return {
            "op": self.op,
            "path": self.path,
            "result": self.result,
            "args": deepcopy(self.args),
            "children": [child.to_json() for child in self.children],
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class _Node:
    op: str
    path: str
    args: Any
    test: Test
    children: tuple[_Node, ...]
    detail: Detail | None = None

    def trace(
        self, subject: Subject, resource: Resource | None, context: Context
    ) -> ConditionResult:
        if not self.children:
            detail = None if self.detail is None else self.detail(subject, resource, context)
            return ConditionResult(
                self.op, self.path, self.test(subject, resource, context), self.args, (), detail
            )
        children = tuple(child.trace(subject, resource, context) for child in self.children)
        results = [child.result for child in children]
        if self.op == "all":
            result = all(results)
        elif self.op == "any":
            result = any(results)
        else:
            result = not results[0]
        return ConditionResult(self.op, self.path, result, None, children)


class Condition:
    """A compiled condition: call it with (subject, resource, context); `tree` is its JSON form."""

    __slots__ = ("tree", "evaluate", "_root")

    def __init__(self, tree: dict[str, Any], root: _Node) -> None:
        self.tree = tree
        self.evaluate: Test = root.test
        self._root = root

    def __call__(self, subject: Subject, resource: Resource | None, context: Context) -> bool:
        return self.evaluate(subject, resource, context)

    def trace(
        self, subject: Subject, resource: Resource | None, context: Context
    ) -> ConditionResult:
        """Evaluate every node (no short-circuit) and return the results as a tree."""
        return self._root.trace(subject, resource, context)

    def __reduce__(self) -> tuple[Callable[[Mapping[str, Any]], Condition], tuple[dict[str, Any]]]:
        return (compile_condition, (self.tree,))

    def __repr__(self) -> str:
        return f"Condition({self.tree!r})"


def compile_condition(tree: Mapping[str, Any]) -> Condition:
    """Compile a JSON condition tree; raise `ConditionError` naming the bad node.

    Compiled conditions are pure and immutable, so equal trees share one `Condition` (a bounded
    cache keyed by the tree's canonical JSON): members of the same roles, and policies unpickled
    from a cache, do not compile the same tree again. `Condition.tree` has its keys sorted.
    """
    plain = _plain(tree, "condition", 0, [MAX_CONDITION_SIZE])
    text = json.dumps(plain, sort_keys=True, separators=(",", ":"))
    if len(text) > _MAX_CACHED_TEXT:
        return _compile_text(text)
    return _compile_cached(text)


def _compile_text(text: str) -> Condition:
    plain = json.loads(text)
    return Condition(plain, _compile_node(plain, "condition", 0))


_compile_cached = lru_cache(maxsize=1024)(_compile_text)


def _plain(value: Any, where: str, depth: int, budget: list[int]) -> Any:
    """A copy of `value` made only of dict/list/str/int/float/bool/None, within the limits."""
    budget[0] -= 1
    if budget[0] < 0:
        raise ConditionError(
            f"condition too large (more than {MAX_CONDITION_SIZE} values)", path="condition"
        )
    if depth > _MAX_JSON_DEPTH:
        raise ConditionError(f"condition nested too deeply at {where}", path=where)
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ConditionError(f"non-finite number at {where}", path=where)
        return value
    if isinstance(value, str):
        if len(value) > MAX_STRING_LENGTH:
            raise ConditionError(
                f"string longer than {MAX_STRING_LENGTH} characters at {where}", path=where
            )
        return value
    if isinstance(value, Mapping):
        copy: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ConditionError(f"object key {key!r} is not a string at {where}", path=where)
            copy[key] = _plain(item, f"{where}.{key}", depth + 1, budget)
        return copy
    if isinstance(value, list | tuple):
        return [_plain(item, f"{where}[{i}]", depth + 1, budget) for i, item in enumerate(value)]
    raise ConditionError(f"{type(value).__name__} is not a JSON value at {where}", path=where)


def _compile_node(node: Any, where: str, depth: int) -> _Node:
    if depth > MAX_CONDITION_DEPTH:
        raise ConditionError(
            f"condition nested deeper than {MAX_CONDITION_DEPTH} levels at {where}", path=where
        )
    if not isinstance(node, dict) or len(node) != 1:
        raise ConditionError(
            f"a condition must be an object with exactly one operator at {where}", path=where
        )
    ((op, args),) = node.items()
    if op == "not":
        child = _compile_node(args, f"{where}.not", depth + 1)
        return _Node(op, where, None, _negation(child.test), (child,))
    if op in ("all", "any"):
        if not isinstance(args, list) or not args:
            raise ConditionError(
                f"{op!r} expects a non-empty list of conditions at {where}", path=where
            )
        children = tuple(
            _compile_node(arg, f"{where}.{op}[{i}]", depth + 1) for i, arg in enumerate(args)
        )
        tests = tuple(child.test for child in children)
        test = _conjunction(tests) if op == "all" else _disjunction(tests)
        return _Node(op, where, None, test, children)
    builder = OPERATORS.get(op)
    if builder is None:
        raise ConditionError(f"unknown operator {op!r} at {where}", path=where)
    explainer = DETAILS.get(op)
    detail = None if explainer is None else explainer(op, args, where)
    return _Node(op, where, args, builder(op, args, where), (), detail)


def _negation(inner: Test) -> Test:
    def test(subject: Subject, resource: Resource | None, context: Context) -> bool:
        return not inner(subject, resource, context)

    return test


def _conjunction(tests: tuple[Test, ...]) -> Test:
    def test(subject: Subject, resource: Resource | None, context: Context) -> bool:
        for each in tests:
            if not each(subject, resource, context):
                return False
        return True

    return test


def _disjunction(tests: tuple[Test, ...]) -> Test:
    def test(subject: Subject, resource: Resource | None, context: Context) -> bool:
        for each in tests:
            if each(subject, resource, context):
                return True
        return False

    return test
