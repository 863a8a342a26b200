"""Tessera's policy engine: pure Python, standard library only, no Django.

Frozen dataclasses in (`PolicyInput`, `Subject`, `Resource`, `Context`), a `Decision` out.
`compile_policy` turns a member's roles, overrides, delegations and grants into a `CompiledPolicy`
(immutable, picklable); `decide` answers one check against it in a few microseconds and can explain
itself. Semantics: docs/engine.md.
"""

from tessera.engine.compile import COMPILED_FORMAT, CompiledPolicy, compile_policy
from tessera.engine.conditions import (
    MAX_CONDITION_DEPTH,
    MAX_CONDITION_SIZE,
    Condition,
    ConditionResult,
    compile_condition,
)
from tessera.engine.decide import decide, effective_permissions, field_access
from tessera.engine.decision import (
    Decision,
    EvaluatedRule,
    FieldSets,
    MatchedRule,
    PermissionSource,
    RuleSource,
)
from tessera.engine.errors import ConditionError, PolicyError
from tessera.engine.holds import (
    Entitlement,
    RuleLike,
    permission_covers,
    permission_meet,
    rules_within,
    scope_covers,
    scopes_not_held,
)
from tessera.engine.model import (
    Context,
    DelegatedRules,
    Effect,
    FieldAccess,
    GrantSpec,
    HeldRole,
    PolicyInput,
    Qualification,
    Resource,
    RoleDef,
    RuleSpec,
    Scope,
    Subject,
)
from tessera.engine.operators import OPERATORS
from tessera.engine.permissions import validate_permission
from tessera.engine.qualifications import qualification_outcome
from tessera.engine.roles import find_role_cycle
from tessera.engine.rules import rule_from_json, validate_rule

__all__ = [
    "COMPILED_FORMAT",
    "MAX_CONDITION_DEPTH",
    "MAX_CONDITION_SIZE",
    "OPERATORS",
    "CompiledPolicy",
    "Condition",
    "ConditionError",
    "ConditionResult",
    "Context",
    "Decision",
    "DelegatedRules",
    "Effect",
    "Entitlement",
    "EvaluatedRule",
    "FieldAccess",
    "FieldSets",
    "GrantSpec",
    "HeldRole",
    "MatchedRule",
    "PermissionSource",
    "PolicyError",
    "PolicyInput",
    "Qualification",
    "Resource",
    "RoleDef",
    "RuleLike",
    "RuleSource",
    "RuleSpec",
    "Scope",
    "Subject",
    "compile_condition",
    "compile_policy",
    "decide",
    "effective_permissions",
    "field_access",
    "find_role_cycle",
    "permission_covers",
    "permission_meet",
    "qualification_outcome",
    "rule_from_json",
    "rules_within",
    "scope_covers",
    "scopes_not_held",
    "validate_permission",
    "validate_rule",
]
