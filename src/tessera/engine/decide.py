"""Checks against a compiled policy: `decide`, `field_access` and `effective_permissions`."""

from __future__ import annotations

from datetime import datetime

from tessera.engine.compile import Candidates, CompiledPolicy
from tessera.engine.decision import ALL_FIELDS, Decision, FieldSets, PermissionSource
from tessera.engine.explain import explain_decision
from tessera.engine.model import Context, Resource, Subject
from tessera.engine.permissions import action_resource
from tessera.engine.rules import applies, in_window

_NO_FIELDS = FieldSets(frozenset(), frozenset())


def decide(
    policy: CompiledPolicy,
    subject: Subject,
    action: str,
    resource: Resource | None,
    context: Context,
    *,
    explain: bool = False,
) -> Decision:
    """May `subject` do `action` (`resource:action`, no wildcard) on `resource` in `context`?

    Raises `PolicyError` only for a malformed action; a denial is a `Decision` with allowed=False.
    With `explain=True` the decision also lists every candidate rule evaluated.
    """
    if explain:
        return explain_decision(policy, subject, action, resource, context)
    found = policy.exact.get(action)
    if found is None:
        found = policy.by_resource.get(action_resource(action), policy.fallback)
    # `policy.compiled_for(subject)`, inlined: this is the hot path.
    if subject.membership_id != policy.membership_id or subject.tenant_id != policy.tenant_id:
        return policy.mismatch
    fast = found.fast
    if fast is not None:
        return fast
    for rule in found.denies:
        if applies(rule, subject, resource, context):
            return rule.decision
    for rule in found.allows:
        if applies(rule, subject, resource, context):
            return rule.decision
    if resource is not None and resource.id is not None:
        now = context.now
        for grant in found.grants.get((resource.type, resource.id), ()):
            if grant.not_after is None or now < grant.not_after:
                return grant.decision
    return policy.default_deny


def field_access(
    policy: CompiledPolicy,
    subject: Subject,
    resource_type: str,
    context: Context,
    *,
    resource: Resource | None = None,
) -> FieldSets:
    """The fields of `resource_type` the subject may read (rules matching `<type>:read`) and write
    (rules matching `<type>:update`). Pass `resource` to let scoped rules, conditions on the
    resource and grants take part; without it only scope `all` admits, as in `decide`."""
    read = policy.candidates(f"{resource_type}:read")
    update = policy.candidates(f"{resource_type}:update")
    if not policy.compiled_for(subject):
        return _NO_FIELDS
    readable, unreadable = _fields(read, "read", subject, resource, context)
    writable, unwritable = _fields(update, "write", subject, resource, context)
    return FieldSets(readable, writable, unreadable, unwritable)


def _fields(
    found: Candidates,
    flag: str,
    subject: Subject,
    resource: Resource | None,
    context: Context,
) -> tuple[frozenset[str], frozenset[str]]:
    if any(applies(rule, subject, resource, context) for rule in found.denies):
        return frozenset(), frozenset()
    granted: set[str] = set()
    removed: set[str] = set()
    allowed = False
    for rule in found.allows:
        if not applies(rule, subject, resource, context):
            continue
        allowed = True
        if not rule.fields:
            granted.add(ALL_FIELDS)
        for name, access in rule.fields.items():
            (granted if getattr(access, flag) else removed).add(name)
    for rule in found.field_denies:
        if applies(rule, subject, resource, context):
            removed.update(
                name for name, access in rule.fields.items() if not getattr(access, flag)
            )
    if not allowed and resource is not None and resource.id is not None:
        for grant in found.grants.get((resource.type, resource.id), ()):
            if in_window(None, grant.not_after, context.now):
                allowed = True
                granted.add(ALL_FIELDS)
    if not allowed or ALL_FIELDS in removed:
        return frozenset(), frozenset(removed)
    if ALL_FIELDS in granted:
        return frozenset({ALL_FIELDS}), frozenset(removed)
    return frozenset(granted - removed), frozenset(removed)


def effective_permissions(policy: CompiledPolicy, now: datetime) -> list[PermissionSource]:
    """Every rule and grant whose time window is open at `now`, with its source, in source order.

    Scopes and conditions are listed, not evaluated: they depend on the resource and request.
    """
    listed = [rule.info for rule in policy.rules if in_window(rule.not_before, rule.not_after, now)]
    listed.extend(grant.info for grant in policy.grants if in_window(None, grant.not_after, now))
    return listed
