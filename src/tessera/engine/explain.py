"""The explaining evaluation: slower than `decide`'s fast path, it records every candidate rule.

It applies exactly the same order as the fast path (denies, then allows, then grants, each in
candidate order), so both paths always reach the same decision with the same deciding rule.
"""

from __future__ import annotations

from dataclasses import replace

from tessera.engine.compile import CompiledPolicy
from tessera.engine.decision import Decision, EvaluatedRule
from tessera.engine.model import Context, Resource, Subject
from tessera.engine.rules import CompiledRule, in_window, scope_admits


def explain_decision(
    policy: CompiledPolicy,
    subject: Subject,
    action: str,
    resource: Resource | None,
    context: Context,
) -> Decision:
    """Decide and record each candidate rule with its window, scope and condition results."""
    found = policy.candidates(action)
    if not policy.compiled_for(subject):
        return policy.mismatch
    evaluated: list[EvaluatedRule] = []
    deciding: Decision | None = None
    for group in (found.denies, found.allows):
        for rule in group:
            result = _evaluate(rule, subject, resource, context)
            evaluated.append(result)
            if result.applies and deciding is None:
                deciding = rule.decision
    if resource is not None and resource.id is not None:
        for grant in found.grants.get((resource.type, resource.id), ()):
            open_now = in_window(None, grant.not_after, context.now)
            evaluated.append(EvaluatedRule(grant.info, open_now, True, None, open_now))
            if open_now and deciding is None:
                deciding = grant.decision
    return replace(deciding or policy.default_deny, evaluated=tuple(evaluated))


def _evaluate(
    rule: CompiledRule, subject: Subject, resource: Resource | None, context: Context
) -> EvaluatedRule:
    window_open = in_window(rule.not_before, rule.not_after, context.now)
    admitted = scope_admits(rule.scope, subject, resource)
    condition = None if rule.condition is None else rule.condition.trace(subject, resource, context)
    holds = condition is None or condition.result
    return EvaluatedRule(
        rule.info, window_open, admitted, condition, window_open and admitted and holds
    )
