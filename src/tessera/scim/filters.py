"""SCIM filters (RFC 7644 §3.4.2.2) as Django queries.

scim2-models parses a filter into a syntax tree (`ScimFilter`, a lark grammar kept by that
project, which also reads Entra ID's `emails[type eq "work"].value eq "…"`); this module walks the
tree into a `Q` over the rows a resource is stored in. Each resource names the attributes it
can be filtered on (`Attribute`); any other attribute is `invalidFilter`, never a silent match.

String comparisons follow each attribute's caseExact: the case-insensitive ones compare
lower-cased text against columns stored lower-cased (emails), so `eq` uses the column's index.
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.dateparse import parse_datetime
from scim2_models import SCIMException, ScimFilter
from scim2_models.path import (
    AttrPath,
    CompareOperator,
    Comparison,
    FilterNode,
    FilterVisitor,
    LogicalExpr,
    LogicalOperator,
    Not,
    Present,
    ValuePath,
)

from tessera.scim.errors import ScimInvalidFilter

MAX_FILTER_LENGTH = 2000
_ICASE_LOOKUPS = {
    CompareOperator.eq: "iexact",
    CompareOperator.co: "icontains",
    CompareOperator.sw: "istartswith",
    CompareOperator.ew: "iendswith",
}
_TEXT_LOOKUPS = {
    CompareOperator.eq: "exact",
    CompareOperator.co: "contains",
    CompareOperator.sw: "startswith",
    CompareOperator.ew: "endswith",
    CompareOperator.gt: "gt",
    CompareOperator.ge: "gte",
    CompareOperator.lt: "lt",
    CompareOperator.le: "lte",
}


@dataclass(frozen=True, slots=True)
class Attribute:
    """A filterable attribute: the column it lives in and how its values compare.

    kind: `text` (case-insensitive, the column holds lower-cased text), `itext`
    (case-insensitive, any column), `exact` (caseExact text), `uuid` (an id), `datetime`,
    `boolean` (through `boolean`: a value → Q), `sub` (a multi-valued attribute stored in
    another table: `related(q)` → Q on the resource, `fields` its sub-attributes).
    """

    kind: str
    column: str = ""
    boolean: Callable[[bool], Q] | None = None
    related: Callable[[Q], Q] | None = None
    fields: Mapping[str, Attribute] | None = None
    present: Q | None = None


def _same(condition: Q) -> Q:
    return condition


def lower_text(value: str) -> str:
    return unicodedata.normalize("NFKC", value).lower()


def _key(path: AttrPath) -> str:
    name = path.attr if path.sub_attr is None else f"{path.attr}.{path.sub_attr}"
    if path.uri:
        return f"{path.uri}:{name}".lower()
    return name.lower()


class _ToQuery(FilterVisitor[Q]):
    def __init__(self, attributes: Mapping[str, Attribute], core_urn: str):
        self.attributes = attributes
        self.core_prefix = core_urn.lower() + ":"

    def _resolve(self, path: AttrPath) -> tuple[Attribute, Callable[[Q], Q]]:
        """The attribute a path names, and how a condition on it becomes one on the resource
        (through EXISTS for the sub-attributes of a multi-valued attribute)."""
        key = _key(path)
        if key.startswith(self.core_prefix):
            key = key[len(self.core_prefix) :]
        found = self.attributes.get(key)
        if found is not None:
            return found, _same
        parent_key, _, sub = key.rpartition(".")
        parent = self.attributes.get(parent_key) if sub else None
        if parent is not None and parent.kind == "sub" and parent.related is not None:
            inner = (parent.fields or {}).get(sub)
            if inner is not None:
                return inner, parent.related
        raise ScimInvalidFilter(f"Filtering on {path} is not supported")

    def visit_logical_expr(self, node: LogicalExpr) -> Q:
        parts = [self.visit(term) for term in node.terms]
        combined = parts[0]
        for part in parts[1:]:
            combined = combined & part if node.op == LogicalOperator.and_ else combined | part
        return combined

    def visit_not(self, node: Not) -> Q:
        return ~self.visit(node.expr)

    def visit_present(self, node: Present) -> Q:
        attribute, wrap = self._resolve(node.attr_path)
        return wrap(self._present(attribute))

    def visit_comparison(self, node: Comparison) -> Q:
        attribute, wrap = self._resolve(node.attr_path)
        if attribute.kind == "sub":
            # `emails co "x"` compares the primary sub-attribute, `value` (RFC 7644 §3.4.2.2)
            value = (attribute.fields or {}).get("value")
            if value is None or attribute.related is None:
                raise ScimInvalidFilter(f"Filtering on {node.attr_path} is not supported")
            return attribute.related(_compare(value, node.op, node.value))
        return wrap(_compare(attribute, node.op, node.value))

    def visit_value_path(self, node: ValuePath) -> Q:
        attribute, _ = self._resolve(node.attr_path)
        if attribute.kind != "sub" or attribute.related is None:
            raise ScimInvalidFilter(f"{node.attr_path} is not a multi-valued attribute")
        inner = _ToQuery(attribute.fields or {}, "")
        return attribute.related(inner.visit(node.val_filter))

    def _present(self, attribute: Attribute) -> Q:
        if attribute.present is not None:
            return attribute.present
        if attribute.kind == "sub" and attribute.related is not None:
            return attribute.related(Q())
        if attribute.kind in ("text", "itext", "exact"):
            return Q(**{f"{attribute.column}__isnull": False}) & ~Q(**{attribute.column: ""})
        if attribute.kind == "datetime":
            return Q(**{f"{attribute.column}__isnull": False})
        return Q()


def _compare(attribute: Attribute, op: CompareOperator, value: Any) -> Q:
    if attribute.kind == "boolean":
        if not isinstance(value, bool) or op not in (CompareOperator.eq, CompareOperator.ne):
            raise ScimInvalidFilter("A boolean attribute compares with eq or ne and true or false")
        assert attribute.boolean is not None
        q = attribute.boolean(value)
        return q if op == CompareOperator.eq else ~q
    if attribute.kind == "datetime":
        when = parse_datetime(value) if isinstance(value, str) else None
        if when is None or when.tzinfo is None:
            raise ScimInvalidFilter(f"{value!r} is not a dateTime with a time zone (RFC 3339)")
        return _lookup(attribute.column, op, when)
    if value is None:
        raise ScimInvalidFilter("Compare with null through `not (… pr)`")
    if attribute.kind == "uuid":
        if op not in (CompareOperator.eq, CompareOperator.ne):
            raise ScimInvalidFilter("An id compares with eq or ne")
        try:
            wanted = uuid.UUID(str(value))
        except ValueError:
            nothing = Q(pk__in=[])
            return nothing if op == CompareOperator.eq else ~nothing
        return _lookup(attribute.column, op, wanted)
    if not isinstance(value, str):
        raise ScimInvalidFilter(f"{value!r} is not a string")
    if attribute.kind == "text":
        value = lower_text(value)
    if attribute.kind == "itext":
        if op == CompareOperator.ne:
            return ~Q(**{f"{attribute.column}__iexact": value})
        lookup = _ICASE_LOOKUPS.get(op) or _TEXT_LOOKUPS[op]
        return Q(**{f"{attribute.column}__{lookup}": value})
    return _lookup(attribute.column, op, value)


def _lookup(column: str, op: CompareOperator, value: Any) -> Q:
    if op == CompareOperator.ne:
        return ~Q(**{column: value})
    return Q(**{f"{column}__{_TEXT_LOOKUPS[op]}": value})


def _parsed(text: str, model: type) -> FilterNode:
    if len(text) > MAX_FILTER_LENGTH:
        raise ScimInvalidFilter(f"A filter is at most {MAX_FILTER_LENGTH} characters")
    try:
        return ScimFilter[model](text).ast  # type: ignore[valid-type]
    except SCIMException as exc:
        raise ScimInvalidFilter(f"Invalid filter: {exc}") from None
    except (ValueError, TypeError) as exc:
        raise ScimInvalidFilter(f"Invalid filter: {exc}") from None


def filter_query(
    text: str, *, model: type, attributes: Mapping[str, Attribute], core_urn: str
) -> Q:
    """The Q for filter `text` on a resource of `model`; ScimInvalidFilter when it is invalid."""
    return _ToQuery(attributes, core_urn).visit(_parsed(text, model))


def filter_equality(text: str, *, model: type, core_urn: str) -> tuple[str, Any] | None:
    """(attribute key, value) when filter `text` is one `attribute eq value` comparison of a
    top-level attribute (`userName eq "…"`: ("username", "…")), else None; ScimInvalidFilter
    when it is invalid."""
    tree = _parsed(text, model)
    if not isinstance(tree, Comparison) or tree.op != CompareOperator.eq:
        return None
    if tree.attr_path.sub_attr is not None:
        return None
    key = _key(tree.attr_path)
    core_prefix = core_urn.lower() + ":"
    return (key[len(core_prefix) :] if key.startswith(core_prefix) else key), tree.value


def related_exists(queryset: QuerySet, link: str) -> Callable[[Q], Q]:
    """For a multi-valued attribute kept in `queryset`'s table: Q(EXISTS row linked by `link`)."""

    def build(condition: Q) -> Q:
        return Q(Exists(queryset.filter(condition, **{link: OuterRef("pk")})))

    return build
