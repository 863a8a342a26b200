"""A member's own allow/deny rules (overrides)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction

from tessera.access.catalog import SYSTEM_PERMISSIONS
from tessera.access.escalation import NotHeld as NotHeld
from tessera.access.escalation import TargetOutranks as TargetOutranks
from tessera.access.escalation import (
    ensure_change_within,
    ensure_target_within,
)
from tessera.access.models import (
    Effect,
    MembershipOverride,
)
from tessera.access.services.admins import ensure_not_last_admin
from tessera.access.services.validation import (
    _rule_rows,
    _same_tenant,
    _stored_rules,
    rules_validate,
)
from tessera.audit.models import AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.engine import (
    permission_covers,
)
from tessera.tenancy.models import Membership
from tessera.tenancy.services import membership_version_bump


def _touches_admin_api(rule: Mapping[str, Any]) -> bool:
    return rule["effect"] == Effect.DENY and any(
        permission_covers(rule["permission"], p) for p in SYSTEM_PERMISSIONS
    )


def overrides_set(
    *,
    membership: Membership,
    rules: Sequence[Mapping[str, Any]],
    by: Membership | None = None,
    actor: Actor | None = None,
) -> list[dict[str, Any]]:
    """Replace the member's own allow/deny rules. With `by`, the member's rules after the change
    must lie within what `by` holds (dropping a deny is a widening: the allows it restricted
    must then be held without it — one's own overrides included), and so must their current
    rules when acting on someone else (403); the last active admin cannot be given a deny on
    Tessera's own permissions (409)."""
    validated = rules_validate(list(rules))
    _same_tenant(membership.tenant_id, by)
    if by is not None:
        ensure_target_within(by, membership)
        ensure_change_within(
            by, membership, drop=lambda rule: rule.source.kind == "override", add=validated
        )
    with transaction.atomic():
        if any(_touches_admin_api(r) for r in validated):
            ensure_not_last_admin(membership=membership)
        before = _stored_rules(membership.overrides.order_by("position", "id"))
        membership.overrides.all().delete()
        MembershipOverride.objects.bulk_create(
            _rule_rows(MembershipOverride, validated, membership=membership)
        )
        membership_version_bump(membership_id=membership.pk)
        audit_record(
            type=AuditEventType.PERMISSION_CHANGE,
            actor=actor,
            tenant_id=membership.tenant_id,
            resource_type="membership",
            resource_id=membership.pk,
            changes={"overrides": {"before": before, "after": validated}},
        )
    return validated
