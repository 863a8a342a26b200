"""`compile_policy`: a member's roles, overrides, delegations and grants, turned into lookups keyed
by permission so that a check never scans all rules.

For every concrete permission named by a rule or grant (`doc:read`) the policy holds the candidate
rules of that exact key, of `doc:*` and of `*:*`; for every resource with wildcard rules, those of
`doc:*` and `*:*`; and a fallback with those of `*:*`. Within a key's candidates, rules without
scope, condition or time window come first, then more specific permissions, then source order
(overrides, held roles in order with their ancestors breadth first, delegations). When the outcome
of a key cannot depend on the subject, resource or context, the decision is precomputed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from tessera.engine.conditions import Condition
from tessera.engine.decision import Decision, RuleSource
from tessera.engine.errors import PolicyError
from tessera.engine.model import VIAS, PolicyInput, RuleSpec, Subject
from tessera.engine.permissions import ANY_PERMISSION, WILDCARD, action_resource
from tessera.engine.roles import check_roles, expand_role
from tessera.engine.rules import (
    CompiledGrant,
    CompiledRule,
    check_aware,
    check_rule,
    compile_grant,
    compile_rule,
)

COMPILED_FORMAT: Final = 1
"""Bumped whenever the pickled shape of `CompiledPolicy` changes; put it in cache keys."""

DEFAULT_DENY_REASON: Final = "no matching allow (default deny)"
MISMATCH_REASON: Final = "subject is not the member this policy was compiled for (default deny)"


@dataclass(frozen=True, slots=True)
class Candidates:
    """The rules and grants that may decide one permission key, in evaluation order."""

    denies: tuple[CompiledRule, ...]
    allows: tuple[CompiledRule, ...]
    field_denies: tuple[CompiledRule, ...]
    grants: Mapping[tuple[str, str], tuple[CompiledGrant, ...]]
    fast: Decision | None
    """The decision when it cannot depend on subject, resource or context; else None."""


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    """A member's compiled policy. Immutable by convention; small and cheap to pickle."""

    tenant_id: str
    membership_id: str
    version: str
    exact: Mapping[str, Candidates]
    by_resource: Mapping[str, Candidates]
    fallback: Candidates
    rules: tuple[CompiledRule, ...]
    grants: tuple[CompiledGrant, ...]
    default_deny: Decision
    mismatch: Decision
    format: int = COMPILED_FORMAT

    def compiled_for(self, subject: Subject) -> bool:
        """Whether `subject` is the member (and tenant) this policy was compiled for."""
        return subject.membership_id == self.membership_id and subject.tenant_id == self.tenant_id

    def candidates(self, action: str) -> Candidates:
        """The candidates for a concrete action; raise `PolicyError` if it is malformed."""
        found = self.exact.get(action)
        if found is None:
            found = self.by_resource.get(action_resource(action), self.fallback)
        return found


def compile_policy(inp: PolicyInput) -> CompiledPolicy:
    """Compile a member's policy; raise `PolicyError` on any malformed input."""
    check_roles(inp.roles)
    version = inp.version
    rules: list[CompiledRule] = []
    checked: dict[int, Condition | None] = {}

    def add(
        spec: RuleSpec,
        source: RuleSource,
        where: str,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
    ) -> None:
        key = id(spec)
        if key not in checked:
            checked[key] = check_rule(spec, where)
        rules.append(
            compile_rule(
                spec,
                source=source,
                not_before=not_before,
                not_after=not_after,
                version=version,
                seq=len(rules),
                condition=checked[key],
            )
        )

    for i, spec in enumerate(inp.overrides):
        add(spec, RuleSource("override", inp.membership_id, index=i), f"overrides[{i}]")
    for h, held in enumerate(inp.held):
        where = f"held[{h}]"
        if not isinstance(held.slug, str) or held.slug not in inp.roles:
            raise PolicyError(f"{where}: the held role {held.slug!r} is not defined", field="held")
        if not isinstance(held.via, str) or held.via not in VIAS:
            raise PolicyError(f"{where}: bad via {held.via!r}", field="held")
        check_aware(held.not_before, f"{where}.not_before")
        check_aware(held.not_after, f"{where}.not_after")
        for path, role in expand_role(held.slug, inp.roles):
            for i, spec in enumerate(role.rules):
                source = RuleSource("role", held.source_id, path, held.via, i)
                add(spec, source, f"role {role.slug!r} rules[{i}]", held.not_before, held.not_after)
    for d, delegated in enumerate(inp.delegated):
        where = f"delegated[{d}]"
        check_aware(delegated.not_before, f"{where}.not_before")
        check_aware(delegated.not_after, f"{where}.not_after")
        for i, spec in enumerate(delegated.rules):
            source = RuleSource("delegation", delegated.delegation_id, index=i)
            add(spec, source, f"{where}.rules[{i}]", delegated.not_before, delegated.not_after)
    grants = tuple(
        compile_grant(grant, version=version, where=f"grants[{g}]")
        for g, grant in enumerate(inp.grants)
    )
    return _build(inp, tuple(rules), grants)


def _build(
    inp: PolicyInput, rules: tuple[CompiledRule, ...], grants: tuple[CompiledGrant, ...]
) -> CompiledPolicy:
    default_deny = Decision(False, DEFAULT_DENY_REASON, (), (), inp.version)
    rules_by_key: dict[str, list[CompiledRule]] = {}
    for rule in rules:
        rules_by_key.setdefault(rule.permission, []).append(rule)
    grants_by_key: dict[str, list[CompiledGrant]] = {}
    for grant in grants:
        grants_by_key.setdefault(grant.permission, []).append(grant)
    keys = set(rules_by_key) | set(grants_by_key)

    def gather(lookup: Iterable[str]) -> Candidates:
        return _candidates(lookup, rules_by_key, grants_by_key, default_deny)

    exact = {
        key: gather((key, f"{action_resource(key)}:*", ANY_PERMISSION))
        for key in sorted(keys)
        if not key.endswith(WILDCARD)
    }
    by_resource = {
        key[:-2]: gather((key, ANY_PERMISSION))
        for key in sorted(keys)
        if key.endswith(":*") and key != ANY_PERMISSION
    }
    return CompiledPolicy(
        tenant_id=inp.tenant_id,
        membership_id=inp.membership_id,
        version=inp.version,
        exact=exact,
        by_resource=by_resource,
        fallback=gather((ANY_PERMISSION,)),
        rules=rules,
        grants=grants,
        default_deny=default_deny,
        mismatch=Decision(False, MISMATCH_REASON, (), (), inp.version),
    )


def _candidates(
    lookup: Iterable[str],
    rules_by_key: Mapping[str, list[CompiledRule]],
    grants_by_key: Mapping[str, list[CompiledGrant]],
    default_deny: Decision,
) -> Candidates:
    ranked: list[tuple[bool, int, int, CompiledRule]] = []
    grants: dict[tuple[str, str], list[CompiledGrant]] = {}
    for specificity, key in enumerate(lookup):
        for rule in rules_by_key.get(key, ()):
            ranked.append((not rule.unconditional, specificity, rule.seq, rule))
        for grant in grants_by_key.get(key, ()):
            grants.setdefault((grant.resource_type, grant.resource_id), []).append(grant)
    ranked.sort(key=lambda entry: entry[:3])
    ordered = [entry[3] for entry in ranked]
    denies = tuple(rule for rule in ordered if rule.effect == "deny" and not rule.field_only)
    allows = tuple(rule for rule in ordered if rule.effect == "allow")
    fast: Decision | None = None
    if denies:
        fast = denies[0].decision if denies[0].unconditional else None
    elif allows:
        fast = allows[0].decision if allows[0].unconditional else None
    elif not grants:
        fast = default_deny
    return Candidates(
        denies=denies,
        allows=allows,
        field_denies=tuple(rule for rule in ordered if rule.field_only),
        grants={target: tuple(found) for target, found in grants.items()},
        fast=fast,
    )
