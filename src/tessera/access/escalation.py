"""The escalation rule on Tessera's data: no one hands out, or acts on someone holding, more than
they hold themselves. The rule itself ("covers", "holds", "within") is `tessera.engine.holds`;
this module feeds it the members' rules in force and answers 403 when it says no.

- `ensure_actor_holds(actor, wanted, ...)` — every path that gives something (a grant, a
  delegation, a role assignment, overrides, role rules): 403 `not_held`.
- `ensure_change_within(actor, target, drop=…, add=…)` — paths that take rules away (overrides
  replaced, a role unassigned): the target's rules *after* the change must lie within the
  actor's, so removing a deny — one's own included — widens no one beyond the actor (403
  `not_held`).
- `ensure_target_within(actor, target)` — every path that acts on another member (update,
  deactivate, reactivate, remove, roles, overrides, sessions, MFA reset, a service account's
  keys): the target's effective permissions must lie within the actor's, 403
  `target_outranks_you`. Acting on oneself, and the platform context (`actor=None`, or a
  membership marked `platform_authority` by the admin site), are not subject to it.

The actor's rules are those in force now (none when their membership is inactive); the target's
are theirs whatever their status (a suspended administrator still outranks a manager).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from django.utils import timezone

from tessera.access.bridge.policy import _may_store, member_policy
from tessera.access.bridge.policy_lookup import policy_for
from tessera.access.models import Delegation, DelegationStatus, Grant, RoleAssignment
from tessera.engine import (
    Entitlement,
    FieldAccess,
    MatchedRule,
    RuleSpec,
    effective_permissions,
    rules_within,
)
from tessera.errors import PermissionDenied, ValidationFailed, field_error
from tessera.tenancy.models import Membership


class NotHeld(PermissionDenied):
    code = "not_held"


class TargetOutranks(PermissionDenied):
    code = "target_outranks_you"


def held_rules(membership: Membership | None, *, now: datetime) -> list[MatchedRule]:
    """The rules in force for an active member now (none for an inactive one)."""

    if membership is None:
        return []
    compiled = policy_for(membership, now=now)
    return [] if compiled is None else effective_permissions(compiled.policy, now)


def holds_nothing(membership: Membership, *, now: datetime) -> bool:
    """Whether the member has no role, override, grant or delegation at all (a new member): a
    few indexed EXISTS instead of compiling a policy."""

    return not (
        RoleAssignment.objects.filter(membership=membership).exists()
        or membership.overrides.exists()
        or Grant.objects.filter(membership=membership).exists()
        or Delegation.objects.filter(
            delegate=membership, status=DelegationStatus.ACTIVE, ends_at__gt=now
        ).exists()
    )


def member_rules(membership: Membership, *, now: datetime) -> list[MatchedRule]:
    """The member's rules in force now, whatever the membership's status. Inside a transaction
    (where compiled policies are not cached: bulk imports) a member holding nothing is answered
    without compiling."""

    if not _may_store() and holds_nothing(membership, now=now):
        return []
    return effective_permissions(member_policy(membership, now=now).policy, now)


def _fields(raw: Any) -> dict[str, FieldAccess]:
    if not isinstance(raw, Mapping):
        return {}
    return {
        str(name): FieldAccess(bool(flags.get("read")), bool(flags.get("write")))
        for name, flags in raw.items()
        if isinstance(flags, Mapping)
    }


def entitlements(
    items: Iterable[Any],
    *,
    until: datetime | None = None,
    resource: tuple[str, str] | None = None,
) -> list[Entitlement]:
    """What is handed out, as the engine reads it: permission strings (allows of scope `all`, or
    grants on `resource`), `RuleSpec`s or stored rule dicts, each given until `until`."""
    found = []
    for item in items:
        if isinstance(item, str):
            if resource is not None:
                found.append(Entitlement.grant(item, resource[0], resource[1], until))
            else:
                found.append(Entitlement("allow", item, not_after=until))
        elif isinstance(item, RuleSpec):
            found.append(Entitlement.of_rule(item, not_after=until))
        else:
            if not isinstance(item, Mapping) or not isinstance(item.get("permission"), str):
                raise ValidationFailed(
                    "Invalid rule",
                    errors=[field_error("rules", "Each rule is an object with a permission.")],
                )
            found.append(
                Entitlement(
                    effect=item.get("effect", "allow"),
                    permission=item["permission"],
                    scope=item.get("scope") or "all",
                    condition=item.get("condition"),
                    fields=_fields(item.get("fields")),
                    not_after=until,
                )
            )
    return found


def ensure_actor_holds(
    actor: Membership,
    permissions: Iterable[Any],
    *,
    resource: tuple[str, str] | None = None,
    until: datetime | None = None,
    now: datetime | None = None,
    held: list[MatchedRule] | None = None,
) -> None:
    """403 `not_held` unless `actor` holds everything `permissions` allow, until `until`
    (None = for good). Items: permission strings (a grant on `resource` when given), `RuleSpec`s
    or rule dicts; denies among them are restrictions carried with the gift, never a need.
    `held`: the actor's `held_rules`, when the caller already has them."""
    now = now or timezone.now()
    wanted = entitlements(permissions, until=until, resource=resource)
    if not any(w.effect == "allow" for w in wanted):
        return
    if held is None:
        held = held_rules(actor, now=now)
    lacking = rules_within(held, wanted)
    if lacking:
        first = lacking[0]
        on = f" on {first.resource_type} {first.resource_id}" if first.resource_type else ""
        raise NotHeld(
            f"You cannot give {first.permission} (scope {first.scope}){on}: "
            "you do not hold it yourself, as long and as widely"
        )


def _platform(actor: Membership) -> bool:
    return bool(getattr(actor, "platform_authority", False))


def ensure_target_within(
    actor: Membership | None,
    target: Membership,
    *,
    now: datetime | None = None,
    held: list[MatchedRule] | None = None,
) -> None:
    """403 `target_outranks_you` unless the target's effective permissions lie within the
    actor's. Self-actions and the platform context pass (see the module)."""
    if actor is None or actor.pk == target.pk or _platform(actor):
        return
    now = now or timezone.now()
    wanted = member_rules(target, now=now)
    if not wanted:
        return
    if held is None:
        held = held_rules(actor, now=now)
    lacking = rules_within(held, wanted)
    if lacking:
        names = ", ".join(sorted({rule.permission for rule in lacking})[:5])
        raise TargetOutranks(
            f"This member holds permissions you do not hold yourself ({names}); "
            "only someone who holds at least as much may act on them"
        )


def ensure_change_within(
    actor: Membership | None,
    target: Membership,
    *,
    drop: Callable[[MatchedRule], bool],
    add: Iterable[Any] = (),
    now: datetime | None = None,
) -> None:
    """403 `not_held` unless the target's rules after the change — those in force now except the
    ones `drop` selects, plus `add` — lie within the actor's. Applies to oneself too: a member
    who replaces their own overrides or gives up a role cannot shed a deny that way."""
    if actor is None or _platform(actor):
        return
    now = now or timezone.now()
    after: list[Any] = [r for r in member_rules(target, now=now) if not drop(r)]
    after.extend(entitlements(add))
    if not any(rule.effect == "allow" for rule in after):
        return
    lacking = rules_within(held_rules(actor, now=now), after)
    if lacking:
        first = lacking[0]
        raise NotHeld(
            f"After this change the member would hold {first.permission} (scope {first.scope}) "
            "beyond what you hold: removing a deny widens them"
        )
