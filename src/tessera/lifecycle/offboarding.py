"""Leavers: `member_offboard` does every step in one transaction, recording each; the erasure
(the GDPR `member_erase`) runs at `erase_at` (`offboardings_erase_due`, `tessera lifecycle
erase-due`) unless `member_offboard_cancel` came first.

Steps, in order (each recorded in `Offboarding.steps` and the MEMBER_OFFBOARDED event):
1. export: the member's data in this tenant as of now (the GDPR export, DATA_EXPORTED), kept in
   the offboarding until the erasure or the cancellation drops it;
2. suspend the membership (the very next request of any credential is refused);
3. revoke every credential in the tenant at once: sessions with their refresh tokens (so access
   tokens die with them), API keys (their WebSocket connections close), sessions of the person in
   the tenant bound to no membership;
4. grants the member gave: re-attributed to `transfer_to` (they stay with their holders);
5. delegations the member gave: re-made from `transfer_to` when `transfer_to` holds what they
   lend (the escalation rule), ended in every case;
6. delegations the member received: ended;
7. the manager is mailed.
Refused, with nothing changed: oneself (409 `self_action_forbidden`), a member who outranks the
caller (403), the tenant's last administrator (409 `last_admin`), a second offboarding (409
`already_offboarded`), `transfer_to` not an active member of this tenant (422
`transfer_target_unknown` / `transfer_target_inactive`) or the leaver themselves (422
`transfer_to_self`).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from tessera.access.escalation import ensure_target_within
from tessera.access.models import Delegation, DelegationStatus, Grant
from tessera.access.services.admins import ensure_not_last_admin
from tessera.access.services.delegations import delegation_create, delegation_revoke
from tessera.audit.export import event_as_dict
from tessera.audit.models import AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.authn.models import Session
from tessera.authn.revocation import credentials_revoke_for_membership
from tessera.authn.sessions import session_end_by_id
from tessera.errors import Conflict, TesseraError, ValidationFailed, field_error
from tessera.identity.mailer import mail_queue
from tessera.lifecycle.models import Offboarding, OffboardingStatus
from tessera.privacy.erasure import member_erase
from tessera.privacy.export import member_data_export
from tessera.tenancy.errors import SelfActionForbidden
from tessera.tenancy.models import Membership, MembershipStatus
from tessera.tenancy.selectors import membership_get
from tessera.tenancy.services import membership_set_status

logger = logging.getLogger("tessera.lifecycle")

DEFAULT_ERASE_AFTER_DAYS = 30
MAX_ERASE_AFTER_DAYS = 3650
REASON = "member_offboarded"


class AlreadyOffboarded(Conflict):
    code = "already_offboarded"


class NotOffboarded(Conflict):
    code = "not_offboarded"


class ErasureDue(Conflict):
    code = "erasure_due"


def _unprocessable(field: str, message: str, code: str) -> ValidationFailed:
    return ValidationFailed(message, errors=[field_error(field, message, code)], code=code)


def _erase_after(days: Any) -> int:
    if days is None:
        return DEFAULT_ERASE_AFTER_DAYS
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_ERASE_AFTER_DAYS:
        raise _unprocessable(
            "erase_after_days", f"An integer from 0 to {MAX_ERASE_AFTER_DAYS}.", "out_of_range"
        )
    return days


def _transfer_target(membership: Membership, user_id: Any) -> Membership | None:
    if user_id is None:
        return None
    target = membership_get(tenant=membership.tenant, user_id=user_id)
    if target is None:
        raise _unprocessable(
            "transfer_to", "Not a member of this tenant.", "transfer_target_unknown"
        )
    if target.pk == membership.pk:
        raise _unprocessable("transfer_to", "Not the leaver themselves.", "transfer_to_self")
    if target.status != MembershipStatus.ACTIVE or not target.user.is_active:
        raise _unprocessable(
            "transfer_to", "Not an active member of this tenant.", "transfer_target_inactive"
        )
    return target


def _export(membership: Membership, actor: Actor | None) -> dict[str, Any]:
    """The GDPR export, materialized as JSON values (it is stored with the offboarding)."""
    export = member_data_export(membership=membership, actor=actor)
    document = {**export.sections, "audit_events": [event_as_dict(e) for e in export.events]}
    return json.loads(json.dumps(document, cls=DjangoJSONEncoder))


def _other_sessions_end(membership: Membership, now: datetime) -> int:
    live = Session.objects.filter(
        user_id=membership.user_id, tenant_id=membership.tenant_id, revoked_at__isnull=True
    )
    return sum(
        session_end_by_id(session_id, membership.tenant_id, now=now, reason=REASON)
        for session_id in live.values_list("pk", flat=True)
    )


def _delegations_given(
    membership: Membership, target: Membership | None, actor: Actor | None
) -> dict[str, list[str]]:
    moved: list[str] = []
    ended: list[str] = []
    for delegation in (
        Delegation.objects.select_for_update(of=("self",))
        .filter(
            delegator=membership, status__in=[DelegationStatus.ACTIVE, DelegationStatus.PENDING]
        )
        .select_related("delegate", "role")
    ):
        if target is not None and delegation.delegate_id != target.pk:
            try:
                with transaction.atomic():
                    again = delegation_create(
                        delegator=target,
                        delegate=delegation.delegate,
                        role=delegation.role,
                        permissions=list(delegation.permissions or []) or None,
                        starts_at=max(timezone.now(), delegation.starts_at),
                        ends_at=delegation.ends_at,
                        reason=f"transferred from an offboarded member: {delegation.reason}"[:500],
                        actor=actor,
                    )
                moved.append(str(again.pk))
            except TesseraError as refused:  # the target does not hold it, or the window ended
                logger.info("delegation %s not transferred: %s", delegation.pk, refused.detail)
        delegation_revoke(delegation=delegation, actor=actor)
        ended.append(str(delegation.pk))
    return {"ended": ended, "transferred_as": moved}


def _delegations_received(membership: Membership, actor: Actor | None) -> list[str]:
    ended = []
    for delegation in Delegation.objects.select_for_update().filter(
        delegate=membership, status__in=[DelegationStatus.ACTIVE, DelegationStatus.PENDING]
    ):
        delegation_revoke(delegation=delegation, actor=actor)
        ended.append(str(delegation.pk))
    return ended


def _notify_manager(membership: Membership, erase_at: datetime) -> bool:
    manager = membership.manager
    if manager is None or manager.status != MembershipStatus.ACTIVE or not manager.user.is_active:
        return False
    mail_queue(
        "member_offboarded",
        to=manager.user.email,
        context={
            "tenant_name": membership.tenant.name,
            "leaver": membership.user.email,
            "erase_at": erase_at.isoformat(),
        },
        link=None,
    )
    return True


def member_offboard(
    *,
    membership: Membership,
    by: Membership | None,
    transfer_to: Any = None,
    erase_after_days: Any = None,
    actor: Actor | None = None,
) -> Offboarding:
    """Offboard a leaver (see the module docstring); one transaction, each step recorded."""
    if by is not None and by.user_id == membership.user_id:
        raise SelfActionForbidden("You cannot offboard yourself; ask another administrator")
    ensure_target_within(by, membership)
    days = _erase_after(erase_after_days)
    target = _transfer_target(membership, transfer_to)
    now = timezone.now()
    erase_at = now + timedelta(days=days)
    with transaction.atomic():
        member = (
            Membership.objects.select_for_update(of=("self",))
            .select_related("user", "tenant", "manager__user")
            .get(pk=membership.pk)
        )
        if Offboarding.objects.filter(
            membership=member, status=OffboardingStatus.OFFBOARDED
        ).exists():
            raise AlreadyOffboarded("This member is already offboarded")
        ensure_not_last_admin(membership=member)
        steps: dict[str, Any] = {"status_before": member.status}
        export = _export(member, actor)
        steps["exported_events"] = len(export["audit_events"])
        if member.status != MembershipStatus.SUSPENDED:
            membership_set_status(membership=member, status=MembershipStatus.SUSPENDED)
        revoked = credentials_revoke_for_membership(membership=member, reason=REASON, actor=actor)
        revoked["sessions"] += _other_sessions_end(member, now)
        steps["credentials_revoked"] = revoked
        grants = Grant.objects.filter(tenant_id=member.tenant_id, granted_by=member)
        steps["grants_given"] = {
            "count": grants.count(),
            "transferred_to": str(target.user_id) if target is not None else None,
        }
        if target is not None:
            grants.update(granted_by=target)
        steps["delegations_given"] = _delegations_given(member, target, actor)
        steps["delegations_received_ended"] = _delegations_received(member, actor)
        steps["manager_notified"] = _notify_manager(member, erase_at)
        offboarding = Offboarding.objects.create(
            tenant_id=member.tenant_id,
            membership=member,
            user_id=member.user_id,
            transfer_to=target,
            erase_at=erase_at,
            steps=steps,
            export=export,
            created_by=by,
        )
        audit_record(
            type=AuditEventType.MEMBER_OFFBOARDED,
            actor=actor,
            tenant_id=member.tenant_id,
            resource_type="user",
            resource_id=member.user_id,
            changes={"offboarding_id": str(offboarding.pk), "erase_at": erase_at, **steps},
        )
    return offboarding


def open_offboarding(*, membership: Membership) -> Offboarding | None:
    return Offboarding.objects.filter(
        membership=membership, status=OffboardingStatus.OFFBOARDED
    ).first()


def member_offboard_cancel(
    *, membership: Membership, by: Membership | None, actor: Actor | None = None
) -> Offboarding:
    """Cancel before the erasure: the membership gets its former status back (its credentials
    stay revoked: the person signs in again; transfers are not undone) and the export is dropped.
    409 `not_offboarded`, or `erasure_due` once `erase_at` has passed."""
    ensure_target_within(by, membership)
    with transaction.atomic():
        offboarding = (
            Offboarding.objects.select_for_update()
            .filter(membership=membership, status=OffboardingStatus.OFFBOARDED)
            .first()
        )
        if offboarding is None:
            raise NotOffboarded("This member is not being offboarded")
        now = timezone.now()
        if offboarding.erase_at <= now:
            raise ErasureDue("The erasure is due: it can no longer be cancelled")
        before = offboarding.steps.get("status_before", MembershipStatus.ACTIVE)
        membership_set_status(membership=membership, status=before)
        offboarding.status = OffboardingStatus.CANCELLED
        offboarding.cancelled_at = now
        offboarding.export = None
        offboarding.save(update_fields=["status", "cancelled_at", "export"])
        audit_record(
            type=AuditEventType.OFFBOARDING_CANCELLED,
            actor=actor,
            tenant_id=membership.tenant_id,
            resource_type="user",
            resource_id=membership.user_id,
            changes={"offboarding_id": str(offboarding.pk), "status": before},
        )
    return offboarding


def offboardings_erase_due(*, now: datetime | None = None) -> int:
    """Run every erasure whose date has come (a scheduler calls it; `tessera lifecycle
    erase-due`); returns how many members were erased. Each erasure is its own transaction,
    claimed under a row lock, so concurrent runs never erase twice."""
    now = now or timezone.now()
    due = Offboarding.objects.filter(status=OffboardingStatus.OFFBOARDED, erase_at__lte=now)
    erased = 0
    for offboarding_id in list(due.order_by("erase_at").values_list("pk", flat=True)[:1000]):
        with transaction.atomic():
            offboarding = (
                Offboarding.objects.select_for_update(skip_locked=True)
                .filter(pk=offboarding_id, status=OffboardingStatus.OFFBOARDED)
                .first()
            )
            if offboarding is None:
                continue
            if offboarding.membership is not None:
                try:
                    with transaction.atomic():
                        member_erase(
                            membership=offboarding.membership, by=None, actor=Actor.system()
                        )
                except TesseraError:
                    logger.exception("the erasure of offboarding %s failed", offboarding.pk)
                    continue
            offboarding.status = OffboardingStatus.ERASED
            offboarding.erased_at = now
            offboarding.export = None
            offboarding.save(update_fields=["status", "erased_at", "export"])
            erased += 1
    return erased
