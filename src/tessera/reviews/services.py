"""Writes of access reviews: start a campaign, decide an item (a revoke applies at once through
the access services: versions bumped, audited), and the campaign's completion.

Refusals, nothing changed: 422 for a bad scope, name or due date (`scope_empty`,
`unknown_role`, `due_in_past`), 422 `review_empty` when the scope holds no access to review,
403 `not_reviewer` for a decision by anyone but the item's reviewer, 409 `already_decided`,
409 `review_closed`; a revoke the escalation rule refuses (403 `not_held`, `target_outranks_you`)
or that would remove the last administrator (409) leaves the item pending.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from tessera.access.escalation import ensure_change_within
from tessera.access.models import Effect, Grant, RoleAssignment
from tessera.access.selectors import role_effective_rules
from tessera.access.services.assignments import role_unassign
from tessera.access.services.grants import grant_delete
from tessera.access.services.overrides import overrides_set
from tessera.audit.models import AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.engine import MatchedRule
from tessera.errors import Conflict, PermissionDenied, ValidationFailed, field_error
from tessera.reviews.models import AccessReview, AccessReviewItem, Decision, ItemKind, ReviewStatus
from tessera.reviews.scope import access_of, members_in_scope, reviewer_for, scope_validate
from tessera.tenancy.models import Membership, MembershipStatus, Tenant

MAX_ITEMS = 20_000
MAX_NOTE = 1000
FIRST_REVIEW_NAME = "First access review"


class NotReviewer(PermissionDenied):
    code = "not_reviewer"


class AlreadyDecided(Conflict):
    code = "already_decided"


class ReviewClosed(Conflict):
    code = "review_closed"


def _invalid(where: str, message: str, code: str = "invalid") -> ValidationFailed:
    return ValidationFailed(message, errors=[field_error(where, message, code)], code=code)


def _fallback(tenant: Tenant, fallback: Membership | None, created_by: Membership | None):
    chosen = fallback or created_by
    if chosen is not None and (
        chosen.tenant_id != tenant.pk or chosen.status != MembershipStatus.ACTIVE
    ):
        raise _invalid("fallback_reviewer_id", "Not an active member of this tenant.")
    return chosen


def access_review_create(
    *,
    tenant: Tenant,
    name: str,
    scope: Mapping[str, Any] | None,
    due_at: datetime,
    created_by: Membership | None = None,
    fallback_reviewer: Membership | None = None,
    actor: Actor | None = None,
) -> AccessReview:
    """A campaign over the scope's members: one item per role, grant and override, each
    assigned to the member's manager or the fallback reviewer (default: the creator)."""
    now = timezone.now()
    name = " ".join(str(name or "").split())
    if not name or len(name) > 200:
        raise _invalid("name", "A name of 1–200 characters.")
    if due_at <= now:
        raise _invalid("due_at", "The due date must be in the future.", "due_in_past")
    clean_scope = scope_validate(tenant=tenant, scope=scope)
    fallback = _fallback(tenant, fallback_reviewer, created_by)
    planned = []
    for member in members_in_scope(tenant=tenant, scope=clean_scope, now=now):
        reviewer = reviewer_for(member, fallback=fallback)
        for item in access_of(member, now=now):
            planned.append((item, reviewer))
            if len(planned) > MAX_ITEMS:
                raise _invalid("scope", f"More than {MAX_ITEMS} items: narrow the scope.")
    if not planned:
        raise _invalid("scope", "No member in this scope holds access to review.", "review_empty")
    with transaction.atomic():
        review = AccessReview.objects.create(
            tenant=tenant,
            name=name,
            scope=clean_scope,
            due_at=due_at,
            created_by=created_by,
            fallback_reviewer=fallback,
        )
        AccessReviewItem.objects.bulk_create(
            AccessReviewItem(
                review=review,
                position=position,
                membership=item.membership,
                user_id=item.membership.user_id,
                reviewer=reviewer,
                reviewer_user_id=reviewer.user_id if reviewer is not None else None,
                kind=item.kind,
                role=item.role,
                grant=item.grant,
                label=item.label[:300],
                detail=item.detail,
            )
            for position, (item, reviewer) in enumerate(planned, start=1)
        )
        audit_record(
            type=AuditEventType.ACCESS_REVIEW_CREATED,
            actor=actor,
            tenant_id=tenant.pk,
            resource_type="access_review",
            resource_id=review.pk,
            changes={
                "name": name,
                "scope": clean_scope,
                "due_at": due_at.isoformat(),
                "items": len(planned),
                "members": len({item.membership.pk for item, _ in planned}),
            },
        )
    return review


def access_review_create_for_member(
    *,
    membership: Membership,
    due_at: datetime | None = None,
    after_days: int = 30,
    name: str = FIRST_REVIEW_NAME,
    created_by: Membership | None = None,
    actor: Actor | None = None,
) -> AccessReview:
    """A campaign over one member's access (a joiner's first review, scheduled by the lifecycle
    template): due at `due_at`, or `after_days` from now; reviewed by their manager, else by
    `created_by`."""
    due = due_at or timezone.now() + timedelta(days=after_days)
    return access_review_create(
        tenant=membership.tenant,
        name=name,
        scope={"members": [str(membership.user_id)]},
        due_at=due,
        created_by=created_by,
        actor=actor,
    )


def _override_rules_without(membership: Membership, rule: Mapping[str, Any]) -> list | None:
    """The member's override rules without the first one equal to `rule` (None: not there)."""
    current = [row.as_dict() for row in membership.overrides.order_by("position", "id")]
    for index, candidate in enumerate(current):
        if candidate == dict(rule):
            return current[:index] + current[index + 1 :]
    return None


def _drops_role(slug: str):
    def drop(rule: MatchedRule) -> bool:
        return (
            rule.source.kind == "role"
            and rule.source.via == "assignment"
            and rule.source.path[:1] == (slug,)
        )

    return drop


def _drops_overrides(rule: MatchedRule) -> bool:
    return rule.source.kind == "override"


def _apply_revoke(item: AccessReviewItem, *, reviewer: Membership, actor: Actor | None) -> bool:
    """Remove the item's access through the access services; False when it was already gone.

    Taking an allow away gives nothing, so a reviewer need not hold it; taking a deny away (a
    role carrying one, a deny override) widens the member, so then the member's rules after the
    change must lie within the reviewer's (403 `not_held`, the escalation rule)."""
    membership = item.membership
    if membership is None:
        return False
    if item.kind == ItemKind.ROLE:
        role = item.role
        if (
            role is None
            or not RoleAssignment.objects.filter(membership=membership, role=role).exists()
        ):
            return False
        if any(rule["effect"] == Effect.DENY for rule in role_effective_rules(role)):
            ensure_change_within(reviewer, membership, drop=_drops_role(role.slug))
        role_unassign(membership=membership, role=role, actor=actor)
        return True
    if item.kind == ItemKind.GRANT:
        if item.grant_id is None:  # the grant was deleted since the review began
            return False
        grant = Grant.objects.filter(pk=item.grant_id, membership=membership).first()
        if grant is None:
            return False
        grant_delete(grant=grant, actor=actor)
        return True
    remaining = _override_rules_without(membership, item.detail)
    if remaining is None:
        return False
    if item.detail.get("effect") == Effect.DENY:
        ensure_change_within(reviewer, membership, drop=_drops_overrides, add=remaining)
    overrides_set(membership=membership, rules=remaining, actor=actor)
    return True


def access_review_decide(
    *,
    item: AccessReviewItem,
    reviewer: Membership,
    decision: str,
    note: str = "",
    actor: Actor | None = None,
) -> AccessReviewItem:
    """Record the reviewer's decision on one item; a revoke removes the access at once. The last
    decision completes the campaign. Two concurrent decisions on one item: the second is 409."""
    if decision not in (Decision.KEEP, Decision.REVOKE):
        raise _invalid("decision", "keep or revoke.")
    note = str(note or "").strip()
    if len(note) > MAX_NOTE:
        raise _invalid("note", f"At most {MAX_NOTE} characters.")
    now = timezone.now()
    with transaction.atomic():
        locked = (
            AccessReviewItem.objects.select_for_update(of=("self",))
            .select_related("review", "membership", "role")
            .get(pk=item.pk)
        )
        if locked.reviewer_id is None or locked.reviewer_id != reviewer.pk:
            raise NotReviewer("Only the item's assigned reviewer decides it")
        if locked.review.status != ReviewStatus.OPEN:
            raise ReviewClosed("This access review is completed")
        if locked.decision != Decision.PENDING:
            raise AlreadyDecided(f"Already decided: {locked.decision}")
        applied = (
            _apply_revoke(locked, reviewer=reviewer, actor=actor)
            if decision == Decision.REVOKE
            else False
        )
        locked.decision, locked.applied, locked.note = decision, applied, note
        locked.decided_by_user_id, locked.decided_at = reviewer.user_id, now
        locked.save(
            update_fields=["decision", "applied", "note", "decided_by_user_id", "decided_at"]
        )
        audit_record(
            type=AuditEventType.ACCESS_REVIEW_DECISION,
            actor=actor,
            tenant_id=locked.review.tenant_id,
            resource_type="access_review_item",
            resource_id=locked.pk,
            changes={
                "review_id": str(locked.review_id),
                "user_id": str(locked.user_id),
                "access": locked.label,
                "decision": decision,
                "applied": applied,
                "note": note,
            },
        )
        _complete_if_done(locked.review, actor=actor, now=now)
    return locked


def _complete_if_done(review: AccessReview, *, actor: Actor | None, now: datetime) -> None:
    if review.items.filter(decision=Decision.PENDING).exists():
        return
    done = AccessReview.objects.filter(pk=review.pk, status=ReviewStatus.OPEN).update(
        status=ReviewStatus.COMPLETED, completed_at=now
    )
    if not done:
        return
    review.status, review.completed_at = ReviewStatus.COMPLETED, now
    counts = {d: review.items.filter(decision=d).count() for d in (Decision.KEEP, Decision.REVOKE)}
    audit_record(
        type=AuditEventType.ACCESS_REVIEW_COMPLETED,
        actor=actor,
        tenant_id=review.tenant_id,
        resource_type="access_review",
        resource_id=review.pk,
        changes={"kept": counts[Decision.KEEP], "revoked": counts[Decision.REVOKE]},
    )
