"""Writes: the qualification catalog and members' records (each with its audit event).

A record changes what the engine allows (`has_qualification`), so creating or revoking one bumps
the holder's membership version in the same transaction: compiled policies are rebuilt on the
next check in every process. Expiry needs no write (the engine compares the window with the
decision's instant).

Who may verify: a member who holds `qualification:verify` (unconditionally, scope `all`) and is
not the holder, within the escalation rule (the holder's permissions lie within the verifier's).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from tessera.access.escalation import ensure_actor_holds, ensure_target_within
from tessera.audit.models import AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.engine.qualifications import MAX_LEVEL, MIN_LEVEL
from tessera.errors import Conflict, NotFound, PermissionDenied, ValidationFailed, field_error
from tessera.qualifications.models import (
    QualificationKind,
    QualificationRecord,
    QualificationType,
    code_validator,
)
from tessera.tenancy.models import Membership, MembershipStatus, Tenant
from tessera.tenancy.services import membership_version_bump

VERIFY_PERMISSION = "qualification:verify"
MAX_VALIDITY_DAYS = 36500
MAX_EVIDENCE = 2000


class SelfVerification(PermissionDenied):
    code = "self_verification"


class QualificationTypeExists(Conflict):
    code = "qualification_type_exists"


class QualificationRevoked(Conflict):
    code = "qualification_revoked"


class HolderNotActive(Conflict):
    code = "member_not_active"


def _invalid(field: str, message: str, code: str = "invalid") -> ValidationFailed:
    return ValidationFailed(f"Invalid {field}", errors=[field_error(field, message, code)])


@dataclass(frozen=True, slots=True)
class TypeInput:
    code: Any
    name: Any
    kind: Any = QualificationKind.CERTIFICATION
    validity_days: Any = None


def _clean_type(data: TypeInput) -> dict[str, Any]:
    errors = []
    code = data.code
    try:
        if not isinstance(code, str):
            raise ValidationError("not a string")
        code_validator(code)
    except ValidationError:
        errors.append(
            field_error("code", "1-64 lower-case letters, digits, '.', '-', '_'.", "invalid")
        )
    name = data.name.strip() if isinstance(data.name, str) else ""
    if not name or len(name) > 200:
        errors.append(field_error("name", "1-200 characters.", "invalid"))
    if data.kind not in QualificationKind.values:
        errors.append(
            field_error("kind", f"One of {', '.join(QualificationKind.values)}.", "invalid")
        )
    days = data.validity_days
    if days is not None and (
        isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_VALIDITY_DAYS
    ):
        errors.append(field_error("validity_days", f"1-{MAX_VALIDITY_DAYS} or null.", "invalid"))
    if errors:
        raise ValidationFailed("Invalid qualification type", errors=errors)
    return {"code": code, "name": name, "kind": data.kind, "validity_days": days}


def qualification_type_create(
    *, tenant: Tenant, data: TypeInput, actor: Actor | None = None
) -> QualificationType:
    """Add a type to the tenant's catalog (409 `qualification_type_exists` for a used code)."""
    clean = _clean_type(data)
    try:
        with transaction.atomic():
            entry = QualificationType.objects.create(tenant=tenant, **clean)
            audit_record(
                type=AuditEventType.QUALIFICATION_TYPE_CREATED,
                actor=actor,
                tenant_id=tenant.pk,
                resource_type="qualification_type",
                resource_id=entry.code,
                changes=clean,
            )
    except IntegrityError:
        raise QualificationTypeExists(
            f"The catalog already has {clean['code']}",
            errors=[field_error("code", "Already in this tenant's catalog.", "duplicate")],
        ) from None
    return entry


@dataclass(frozen=True, slots=True)
class RecordInput:
    type_code: Any
    level: Any
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    evidence: Any = ""


def _clean_record(tenant: Tenant, data: RecordInput, now: datetime) -> dict[str, Any]:
    errors = []
    entry = None
    if isinstance(data.type_code, str):
        entry = QualificationType.objects.filter(tenant=tenant, code=data.type_code).first()
    if entry is None:
        errors.append(
            field_error("type", "No such qualification type in this tenant.", "not_found")
        )
    level = data.level
    if isinstance(level, bool) or not isinstance(level, int) or not MIN_LEVEL <= level <= MAX_LEVEL:
        errors.append(
            field_error("level", f"An integer from {MIN_LEVEL} to {MAX_LEVEL}.", "out_of_range")
        )
    evidence = data.evidence or ""
    if not isinstance(evidence, str) or len(evidence) > MAX_EVIDENCE:
        errors.append(field_error("evidence", f"Up to {MAX_EVIDENCE} characters.", "invalid"))
    valid_from = data.valid_from or now
    valid_until = data.valid_until
    if valid_until is None and entry is not None and entry.validity_days:
        try:
            valid_until = valid_from + timedelta(days=entry.validity_days)
        except OverflowError:
            errors.append(field_error("valid_from", "Too far in the future.", "out_of_range"))
    if valid_until is not None and valid_until <= valid_from:
        errors.append(field_error("valid_until", "Must be after valid_from.", "invalid"))
    if errors:
        raise ValidationFailed("Invalid qualification record", errors=errors)
    return {
        "type": entry,
        "level": level,
        "evidence": evidence,
        "valid_from": valid_from,
        "valid_until": valid_until,
    }


def record_state(record: QualificationRecord) -> dict[str, Any]:
    """What an audit event says about a record (the evidence note stays out: free text)."""
    return {
        "holder_user_id": str(record.membership.user_id),
        "type": record.type.code,
        "level": record.level,
        "valid_from": record.valid_from.isoformat(),
        "valid_until": record.valid_until.isoformat() if record.valid_until else None,
        "verified_by_user_id": str(record.verified_by.user_id) if record.verified_by else None,
    }


def qualification_record_create(
    *,
    holder: Membership,
    verifier: Membership,
    data: RecordInput,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> QualificationRecord:
    """Record a qualification of `holder`, verified by `verifier` (see the module docstring):
    403 `self_verification` for the holder, 403 `not_held` without `qualification:verify`, 403
    `target_outranks_you` for a holder who outranks the verifier, 422 for bad fields."""
    now = now or timezone.now()
    if holder.tenant_id != verifier.tenant_id:
        raise NotFound("No such user in this tenant")
    if holder.pk == verifier.pk or holder.user_id == verifier.user_id:
        raise SelfVerification("A qualification is verified by someone other than its holder")
    ensure_actor_holds(verifier, [VERIFY_PERMISSION], now=now)
    ensure_target_within(verifier, holder, now=now)
    if holder.status != MembershipStatus.ACTIVE:
        raise HolderNotActive("Qualifications are recorded for active members only")
    clean = _clean_record(holder.tenant, data, now)
    with transaction.atomic():
        record = QualificationRecord.objects.create(
            tenant_id=holder.tenant_id, membership=holder, verified_by=verifier, **clean
        )
        membership_version_bump(membership_id=holder.pk)
        audit_record(
            type=AuditEventType.QUALIFICATION_GRANTED,
            actor=actor,
            tenant_id=holder.tenant_id,
            resource_type="qualification",
            resource_id=record.pk,
            changes=record_state(record),
        )
    return record


def qualification_record_revoke(
    *,
    record: QualificationRecord,
    by: Membership | None,
    reason: str = "",
    actor: Actor | None = None,
) -> QualificationRecord:
    """Revoke a record at once (409 `qualification_revoked` when it already is)."""
    if not isinstance(reason, str) or len(reason) > 500:
        raise _invalid("reason", "Up to 500 characters.")
    if by is not None:
        ensure_actor_holds(by, [VERIFY_PERMISSION])
        ensure_target_within(by, record.membership)
    with transaction.atomic():
        locked = QualificationRecord.objects.select_for_update().get(pk=record.pk)
        if locked.revoked_at is not None:
            raise QualificationRevoked("This qualification is already revoked")
        locked.revoked_at = timezone.now()
        locked.revoked_by = by
        locked.revoke_reason = reason
        locked.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
        membership_version_bump(membership_id=locked.membership_id)
        audit_record(
            type=AuditEventType.QUALIFICATION_REVOKED,
            actor=actor,
            tenant_id=locked.tenant_id,
            resource_type="qualification",
            resource_id=locked.pk,
            changes={**record_state(record), "reason": reason},
        )
    return locked
