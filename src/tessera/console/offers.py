"""What the console offers the caller to do: the guard's permissions and the escalation rule
asked before a button is drawn, so that what a person may not do is not offered.

The services ask the same questions again when the form is posted (a forced form is refused
there); these reads only decide what to show.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from tessera.access.escalation import ensure_actor_holds, ensure_target_within, held_rules
from tessera.access.models import Role
from tessera.access.selectors import role_effective_rules, role_list
from tessera.administration.member_selectors import member_role_slugs
from tessera.console.pages import Console
from tessera.engine import MatchedRule
from tessera.errors import PermissionDenied
from tessera.tenancy.models import Membership, MembershipStatus


@dataclass(frozen=True, slots=True)
class MemberOffers:
    """The actions on one member the caller is offered."""

    is_self: bool
    within: bool  # the member's permissions lie within the caller's (or it is the caller)
    suspend: bool = False
    reactivate: bool = False
    remove_roles: frozenset[str] = frozenset()
    give_roles: tuple[Role, ...] = ()
    read_sessions: bool = False
    end_sessions: bool = False
    reset_mfa: bool = False
    remove: bool = False
    edit_attributes: bool = False
    notes: tuple[str, ...] = field(default=())


def _holds_role(actor: Membership, role: Role, *, held: list[MatchedRule], now: datetime) -> bool:
    try:
        ensure_actor_holds(actor, role_effective_rules(role), now=now, held=held)
    except PermissionDenied:
        return False
    return True


def roles_giveable(console: Console, *, now: datetime | None = None) -> list[Role]:
    """The tenant's roles the caller may hand out: those whose rules (inherited ones included)
    the caller holds; empty without `role:assign`."""
    if not console.can["role_assign"]:
        return []
    now = now or timezone.now()
    held = held_rules(console.membership, now=now)
    return [
        role
        for role in role_list(tenant=console.tenant)
        if _holds_role(console.membership, role, held=held, now=now)
    ]


def member_offers(console: Console, target: Membership) -> MemberOffers:
    """What the caller may do to `target`, as the services will decide it."""
    now = timezone.now()
    actor = console.membership
    is_self = actor.pk == target.pk
    held = held_rules(actor, now=now)
    try:
        ensure_target_within(actor, target, now=now, held=held)
        within = True
    except PermissionDenied:
        within = False
    if not within:
        return MemberOffers(is_self=False, within=False)
    can = console.can
    status = target.status
    current = set(member_role_slugs(target))
    giveable = roles_giveable(console, now=now)
    return MemberOffers(
        is_self=is_self,
        within=True,
        suspend=can["user_deactivate"] and not is_self and status == MembershipStatus.ACTIVE,
        reactivate=can["user_deactivate"] and status == MembershipStatus.SUSPENDED,
        remove_roles=frozenset(current & {r.slug for r in giveable}),
        give_roles=tuple(r for r in giveable if r.slug not in current),
        read_sessions=can["session_read"],
        end_sessions=can["session_revoke"],
        reset_mfa=can["user_update"] and not is_self,
        remove=can["user_delete"] and not is_self,
        edit_attributes=can["user_update"] and not is_self,
    )
