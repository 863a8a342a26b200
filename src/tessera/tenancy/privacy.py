"""GDPR requests about one member of a tenant: export their data, erase them.

    member_data_export(membership=…, actor=…)  → MemberExport   (GET /api/v1/users/{id}/export)
    member_erase(membership=…, by=…, actor=…)   → ErasureSummary (POST /api/v1/users/{id}/erase)

**Export** is the person's data *in this tenant*: their global profile, the membership, roles
(with expiry), overrides, grants to them, delegations given and received, their sessions in this
tenant, their API keys' metadata, whether MFA is on, and the audit events by them or about them in
this tenant's chain. Never a secret: no password or token hash, no key hash, no TOTP secret, no
backup code. Trusted devices are left out (they are not bound to a tenant: their addresses would
tell one tenant about the person's sign-ins elsewhere). The audit events are streamed in keyset
batches, so an export costs constant memory. A DATA_EXPORTED event records who exported whom.

**Erasure**, in one transaction:
1. refuse the caller's own membership (409 `self_action_forbidden`, as for removal) and the
   tenant's last active administrator (409 `last_admin`);
2. revoke the membership's sessions, refresh tokens and API keys
   (`credentials_revoke_for_membership`) and end the delegations it gave;
3. redact (tessera.audit.services.audit_redact) every audit event of this tenant by the person or
   about them — their user, membership, sessions, API keys, grants, delegations, trusted devices,
   or whose `changes` mention their email — so ip, user agent and changes are gone while the chain
   still verifies;
4. delete the membership's role assignments, overrides, grants, delegations (given and received),
   sessions, API keys and pending MFA challenges in this tenant, then the membership;
5. when the person has no other membership and is not a platform administrator, anonymize the
   global identity: email `erased-<user id>@erased.invalid`, names, phone, avatar, metadata and
   preferences blanked, unusable password, inactive; password history, MFA factor, backup codes,
   reset tokens, trusted devices, MFA challenges and every session deleted; the Django admin's log
   entries about them renamed to the id; and step 3 covers every chain (every tenant and the
   platform chain), not only this tenant's;
6. record DATA_ERASED, whose only personal datum is the pseudonymous user id.

A person who belongs to other tenants keeps their identity (email, password, MFA) there: only
this tenant's data goes. Erasure is irreversible.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from tessera.administration.member_input import SelfActionForbidden
from tessera.audit.models import AuditEvent, AuditEventType
from tessera.audit.services import Actor, audit_record, audit_redact, chain_key
from tessera.errors import NotFound
from tessera.identity.models import User
from tessera.tenancy.models import Membership

EXPORT_FORMAT = "tessera.member-export/1"
ERASED_DOMAIN = "erased.invalid"
EVENT_BATCH = 1000


def erased_email(user_id) -> str:
    """The email an anonymized identity keeps: unique, undeliverable, and only the id in it."""
    return f"erased-{user_id}@{ERASED_DOMAIN}"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _user_id_of(membership: Membership | None) -> str | None:
    return str(membership.user_id) if membership is not None else None


# --- whose audit events --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Footprint:
    """The ids under which a person appears in audit events (as actor or as resource)."""

    user_id: str
    email: str
    membership_ids: tuple[str, ...] = ()
    session_ids: tuple[str, ...] = ()
    api_key_ids: tuple[str, ...] = ()
    grant_ids: tuple[str, ...] = ()
    delegation_ids: tuple[str, ...] = ()
    device_ids: tuple[str, ...] = ()

    def events(self, *, chains: list[str] | None) -> QuerySet[AuditEvent]:
        """The events by or about the person, in these chains (None: every chain).

        About them: their user, membership(s), sessions, API keys, grants, delegations and trusted
        devices as the resource, or their email as a value in `changes`. DATA_ERASED events are
        about the person but carry no personal data (only the id); they are included only when
        the person was the actor (the actor's address is theirs).
        """
        by = Q(actor_user_id=self.user_id) | Q(actor_membership_id__in=self.membership_ids)
        about = Q(resource_type="user", resource_id=self.user_id)
        for resource_type, ids in (
            ("membership", self.membership_ids),
            ("session", self.session_ids),
            ("api_key", self.api_key_ids),
            ("grant", self.grant_ids),
            ("delegation", self.delegation_ids),
            ("trusted_device", self.device_ids),
        ):
            if ids:
                about |= Q(resource_type=resource_type, resource_id__in=ids)
        # the email as a JSON string value (so erasing ann@x leaves joann@x's events alone)
        about |= Q(changes_text__icontains=f'"{self.email}"')
        events = AuditEvent.objects.annotate(changes_text=Cast("changes", TextField()))
        if chains is not None:
            events = events.filter(chain__in=chains)
        return events.filter(by | (about & ~Q(type=AuditEventType.DATA_ERASED)))


def _ids(queryset) -> tuple[str, ...]:
    return tuple(str(pk) for pk in queryset.values_list("pk", flat=True))


def _footprint(*, membership: Membership, user: User, everywhere: bool) -> Footprint:
    """The person's ids in the membership's tenant (everywhere: in every tenant)."""
    from tessera.access.models import Delegation, Grant
    from tessera.authn.models import ApiKey, Session, TrustedDevice

    sessions = Session.objects.filter(user_id=user.pk)
    keys = ApiKey.objects.filter(membership__user_id=user.pk)
    grants = Grant.objects.filter(membership__user_id=user.pk)
    delegations = Delegation.objects.filter(
        Q(delegator__user_id=user.pk) | Q(delegate__user_id=user.pk)
    )
    memberships = Membership.objects.filter(user_id=user.pk)
    if not everywhere:
        tenant_id = membership.tenant_id
        sessions = sessions.filter(tenant_id=tenant_id)
        keys, grants = keys.filter(tenant_id=tenant_id), grants.filter(tenant_id=tenant_id)
        delegations = delegations.filter(tenant_id=tenant_id)
        memberships = memberships.filter(pk=membership.pk)
    return Footprint(
        user_id=str(user.pk),
        email=user.email,
        membership_ids=_ids(memberships),
        session_ids=_ids(sessions),
        api_key_ids=_ids(keys),
        grant_ids=_ids(grants),
        delegation_ids=_ids(delegations),
        device_ids=_ids(TrustedDevice.objects.filter(user_id=user.pk)),
    )


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
    from tessera.tenancy.models import MembershipStatus

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


def _delegation(d) -> dict[str, Any]:
    return {
        "id": str(d.pk),
        "delegator_id": str(d.delegator.user_id),
        "delegate_id": str(d.delegate.user_id),
        "role": d.role.slug if d.role_id else None,
        "permissions": list(d.permissions or []),
        "starts_at": _iso(d.starts_at),
        "ends_at": _iso(d.ends_at),
        "reason": d.reason,
        "status": d.status,
        "created_at": _iso(d.created_at),
        "revoked_at": _iso(d.revoked_at),
    }


def _access_sections(m: Membership) -> dict[str, Any]:
    from tessera.access.models import Delegation, Grant, MembershipOverride, RoleAssignment

    assignments = (
        RoleAssignment.objects.filter(membership=m)
        .select_related("role", "granted_by")
        .order_by("role__slug")
    )
    grants = Grant.objects.filter(membership=m).select_related("granted_by").order_by("created_at")
    delegations = Delegation.objects.select_related("delegator", "delegate", "role").order_by(
        "created_at"
    )
    return {
        "roles": [
            {
                "slug": a.role.slug,
                "name": a.role.name,
                "expires_at": _iso(a.expires_at),
                "granted_by": _user_id_of(a.granted_by),
                "created_at": _iso(a.created_at),
            }
            for a in assignments
        ],
        "overrides": [
            o.as_dict()
            for o in MembershipOverride.objects.filter(membership=m).order_by("position")
        ],
        "grants": [
            {
                "id": str(g.pk),
                "permission": g.permission,
                "resource_type": g.resource_type,
                "resource_id": g.resource_id,
                "expires_at": _iso(g.expires_at),
                "granted_by": _user_id_of(g.granted_by),
                "created_at": _iso(g.created_at),
            }
            for g in grants
        ],
        "delegations": {
            "given": [_delegation(d) for d in delegations.filter(delegator=m)],
            "received": [_delegation(d) for d in delegations.filter(delegate=m)],
        },
    }


def _credential_sections(m: Membership) -> dict[str, Any]:
    from tessera.authn.models import ApiKey, Session
    from tessera.identity.mfa import mfa_status

    sessions = Session.objects.filter(user_id=m.user_id, tenant_id=m.tenant_id).order_by(
        "created_at", "id"
    )
    keys = ApiKey.objects.filter(membership=m).order_by("created_at", "id")
    mfa = mfa_status(user_id=m.user_id)
    return {
        "sessions": [
            {
                "id": str(s.pk),
                "created_at": _iso(s.created_at),
                "last_activity_at": _iso(s.last_activity_at),
                "expires_at": _iso(s.expires_at),
                "absolute_expires_at": _iso(s.absolute_expires_at),
                "ip": s.ip,
                "user_agent": s.user_agent,
                "device_info": s.device_info or {},
                "auth_method": s.auth_method,
                "mfa_verified_at": _iso(s.mfa_verified_at),
                "risk_score": s.risk_score,
                "revoked_at": _iso(s.revoked_at),
                "revoked_reason": s.revoked_reason,
            }
            for s in sessions
        ],
        "api_keys": [
            {
                "id": str(k.pk),
                "name": k.name,
                "prefix": k.prefix,
                "scopes": list(k.scopes or []),
                "allowed_ips": list(k.allowed_ips or []),
                "created_at": _iso(k.created_at),
                "expires_at": _iso(k.expires_at),
                "last_used_at": _iso(k.last_used_at),
                "last_used_ip": k.last_used_ip,
                "use_count": k.use_count,
                "revoked_at": _iso(k.revoked_at),
            }
            for k in keys
        ],
        "mfa": {
            "enabled": mfa.enabled,
            "confirmed_at": _iso(mfa.confirmed_at),
            "backup_codes_remaining": mfa.backup_codes_remaining,
        },
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
        **_access_sections(m),
        **_credential_sections(m),
    }
    events = footprint.events(chains=[chain_key(m.tenant_id)])
    return MemberExport(sections=sections, events=_events_oldest_first(events))


# --- erasure -------------------------------------------------------------------------------------


@dataclass(slots=True)
class ErasureSummary:
    user_id: str
    membership_id: str
    identity_anonymized: bool
    revoked: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    audit_events_redacted: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _delete_tenant_data(m: Membership) -> dict[str, int]:
    """The membership's access data, sessions, keys and challenges in its tenant, then itself."""
    from tessera.access.models import Delegation, Grant, MembershipOverride, RoleAssignment
    from tessera.authn.models import ApiKey, MfaChallenge, Session

    def gone(queryset) -> int:
        return queryset.delete()[1].get(queryset.model._meta.label, 0)

    deleted = {
        "role_assignments": gone(RoleAssignment.objects.filter(membership=m)),
        "overrides": gone(MembershipOverride.objects.filter(membership=m)),
        "grants": gone(Grant.objects.filter(membership=m)),
        "delegations": gone(Delegation.objects.filter(Q(delegator=m) | Q(delegate=m))),
        "sessions": gone(
            Session.objects.filter(Q(membership=m) | Q(user_id=m.user_id, tenant_id=m.tenant_id))
        ),
        "api_keys": gone(ApiKey.objects.filter(membership=m)),
    }
    MfaChallenge.objects.filter(
        Q(membership=m) | Q(user_id=m.user_id, tenant_id=m.tenant_id)
    ).delete()
    from tessera.tenancy.models import Invitation

    deleted["invitations"] = gone(Invitation.objects.filter(membership=m))
    Membership.objects.filter(pk=m.pk).delete()
    return deleted


def _tenant_sessions_revoke(m: Membership) -> int:
    """Live sessions of the person in the tenant that are bound to no membership (the
    membership's own were revoked by `credentials_revoke_for_membership`)."""
    from tessera.authn.models import Session
    from tessera.authn.sessions import session_end_by_id

    now = timezone.now()
    live = Session.objects.filter(user_id=m.user_id, tenant_id=m.tenant_id, revoked_at__isnull=True)
    return sum(
        session_end_by_id(session_id, m.tenant_id, now=now, reason="member_erased")
        for session_id in live.values_list("pk", flat=True)
    )


def _identity_revoke(user: User, actor: Actor | None) -> int:
    """Every session and trusted device of the person, at once (before their rows go)."""
    from tessera.authn.devices import devices_revoke_for_user
    from tessera.authn.sessions import sessions_revoke_for_user

    ended = sessions_revoke_for_user(user=user, reason="user_erased", actor=actor)
    devices_revoke_for_user(user_id=user.pk)
    return ended


def _identity_anonymize(user: User) -> dict[str, int]:
    """Blank the global identity and delete its credentials and their traces."""
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    from tessera.authn.models import MfaChallenge, PasswordResetToken, Session, TrustedDevice
    from tessera.identity.models import (
        BackupCode,
        EmailVerificationToken,
        PasswordHistory,
        TotpFactor,
    )

    deleted = {
        "identity_sessions": Session.objects.filter(user_id=user.pk).delete()[0],
        "password_history": PasswordHistory.objects.filter(user_id=user.pk).delete()[0],
        "mfa_factors": TotpFactor.objects.filter(user_id=user.pk).delete()[0],
        "backup_codes": BackupCode.objects.filter(user_id=user.pk).delete()[0],
        "reset_tokens": PasswordResetToken.objects.filter(user_id=user.pk).delete()[0],
        "email_tokens": EmailVerificationToken.objects.filter(user_id=user.pk).delete()[0],
        "trusted_devices": TrustedDevice.objects.filter(user_id=user.pk).delete()[0],
    }
    MfaChallenge.objects.filter(user_id=user.pk).delete()
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(User), object_id=str(user.pk)
    ).update(object_repr=str(user.pk))
    user.email = erased_email(user.pk)
    user.first_name = user.last_name = user.phone = user.avatar_url = ""
    user.metadata = {}
    user.timezone = User._meta.get_field("timezone").default
    user.language = User._meta.get_field("language").default
    user.is_active = False
    user.must_change_password = False
    user.password_changed_at = user.last_login = user.last_activity_at = None
    user.email_verified_at = user.managed_by_tenant = None
    user.set_unusable_password()
    user.save()
    return deleted


def member_erase(
    *, membership: Membership, by: Membership | None, actor: Actor | None = None
) -> ErasureSummary:
    """Erase the person from the membership's tenant, and anonymize them when it was their only
    tenant (see the module docstring). `by` is the acting membership (None: platform or CLI)."""
    from tessera.access.escalation import ensure_target_within
    from tessera.access.services.admins import ensure_not_last_admin
    from tessera.access.services.delegations import delegations_revoke_given
    from tessera.authn.revocation import credentials_revoke_for_membership
    from tessera.tenancy.services import tenant_policy_bump

    if by is not None and by.user_id == membership.user_id:
        raise SelfActionForbidden("You cannot erase yourself; ask another administrator")
    ensure_target_within(by, membership)  # no one erases a member who outranks them
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=membership.user_id)
        m = Membership.objects.select_for_update().filter(pk=membership.pk).first()
        if m is None:
            raise NotFound("No such user in this tenant")
        ensure_not_last_admin(membership=m)
        tenant_id = m.tenant_id
        elsewhere = Membership.objects.filter(user_id=user.pk).exclude(pk=m.pk).exists()
        anonymize = not elsewhere and not user.is_platform_admin
        footprint = _footprint(membership=m, user=user, everywhere=anonymize)

        revoked = credentials_revoke_for_membership(
            membership=m, reason="member_erased", actor=actor
        )
        revoked["sessions"] += _tenant_sessions_revoke(m)
        revoked["delegations"] = delegations_revoke_given(membership=m, actor=actor)
        if anonymize:
            revoked["identity_sessions"] = _identity_revoke(user, actor)

        redacted = audit_redact(
            events=footprint.events(chains=None if anonymize else [chain_key(tenant_id)])
        )
        deleted = _delete_tenant_data(m)
        tenant_policy_bump(tenant_id=tenant_id)
        if anonymize:
            deleted.update(_identity_anonymize(user))

        summary = ErasureSummary(
            user_id=str(user.pk),
            membership_id=str(m.pk),
            identity_anonymized=anonymize,
            revoked=revoked,
            deleted=deleted,
            audit_events_redacted=redacted,
        )
        audit_record(
            type=AuditEventType.DATA_ERASED,
            actor=actor,
            tenant_id=tenant_id,
            resource_type="user",
            resource_id=user.pk,
            changes=summary.as_dict(),
        )
    return summary
