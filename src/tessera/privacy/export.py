"""Exporting a member's data in this tenant (never a secret), audit events streamed in batches."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from tessera.access.privacy import access_export
from tessera.audit.models import AuditEvent, AuditEventType
from tessera.audit.services import Actor, audit_record, chain_key
from tessera.authn.privacy import credentials_export
from tessera.errors import NotFound
from tessera.identity.models import User
from tessera.privacy.footprint import EVENT_BATCH, EXPORT_FORMAT, _footprint
from tessera.tenancy.models import Membership, MembershipStatus
from tessera.tenancy.privacy import iso_or_none as _iso
from tessera.tenancy.privacy import user_id_of as _user_id_of

# --- export --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MemberExport:
    """The sections of an export, and its audit events (an iterator, oldest first)."""

    sections: dict[str, Any]
    events: Iterator[AuditEvent]


def _profile(user: User) -> dict[str, Any]:
    return {
        "id": str(user.pk),
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "phone": user.phone,
        "timezone": user.timezone,
        "language": user.language,
        "avatar_url": user.avatar_url,
        "metadata": user.metadata or {},
        "is_active": user.is_active,
        "is_service_account": user.is_service_account,
        "must_change_password": user.must_change_password,
        "password_changed_at": _iso(user.password_changed_at),
        "last_login": _iso(user.last_login),
        "last_activity_at": _iso(user.last_activity_at),
        "created_at": _iso(user.created_at),
        "updated_at": _iso(user.updated_at),
    }


GLOBAL_ACTIVITY = ("must_change_password", "password_changed_at", "last_login", "last_activity_at")


def _profile_seen_by_tenant(m: Membership, *, own: bool) -> dict[str, Any]:
    """The identity as this export may show it: the person sees everything; the tenant sees only
    the address of someone merely invited, and the global activity (sign-ins, password changes,
    which happen in other tenants too) only of an identity it manages (docs/identities.md)."""

    profile = _profile(m.user)
    if own:
        return profile
    if m.status == MembershipStatus.INVITED:
        return {"id": profile["id"], "email": profile["email"]}
    if m.user.managed_by_tenant_id != m.tenant_id:
        for name in GLOBAL_ACTIVITY:
            profile.pop(name, None)
    return profile


def _membership(m: Membership) -> dict[str, Any]:
    return {
        "id": str(m.pk),
        "status": m.status,
        "department": m.department,
        "job_title": m.job_title,
        "employee_id": m.employee_id,
        "cost_center": m.cost_center,
        "clearance_level": m.clearance_level,
        "attributes": m.attributes or {},
        "manager_id": _user_id_of(m.manager),
        "gdpr_consent_at": _iso(m.gdpr_consent_at),
        "created_at": _iso(m.created_at),
        "updated_at": _iso(m.updated_at),
    }


def _events_oldest_first(queryset: QuerySet[AuditEvent]) -> Iterator[AuditEvent]:
    after = 0
    while True:
        rows = list(queryset.filter(seq__gt=after).order_by("seq")[:EVENT_BATCH])
        yield from rows
        if len(rows) < EVENT_BATCH:
            return
        after = rows[-1].seq


def member_data_export(*, membership: Membership, actor: Actor | None = None) -> MemberExport:
    """The person's data in the membership's tenant (see the module docstring); DATA_EXPORTED
    is recorded now, the audit events are read when the iterator is consumed."""
    m = (
        Membership.objects.select_related("user", "tenant", "manager")
        .filter(pk=membership.pk)
        .first()
    )
    if m is None:
        raise NotFound("No such user in this tenant")
    actor = actor or Actor.system()
    audit_record(
        type=AuditEventType.DATA_EXPORTED,
        actor=actor,
        tenant_id=m.tenant_id,
        resource_type="user",
        resource_id=m.user_id,
        changes={"scope": "member", "own": str(actor.user_id) == str(m.user_id)},
    )
    footprint = _footprint(membership=m, user=m.user, everywhere=False)
    sections = {
        "format": EXPORT_FORMAT,
        "generated_at": _iso(timezone.now()),
        "tenant": {"id": str(m.tenant_id), "slug": m.tenant.slug, "name": m.tenant.name},
        "profile": _profile_seen_by_tenant(m, own=str(actor.user_id) == str(m.user_id)),
        "membership": _membership(m),
        **access_export(membership=m),
        **credentials_export(membership=m),
    }
    events = footprint.events(chains=[chain_key(m.tenant_id)])
    return MemberExport(sections=sections, events=_events_oldest_first(events))
