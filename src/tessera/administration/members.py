"""Member lifecycle: add, change, deactivate, reactivate and remove a tenant's members.

Every write runs in one transaction with its audit event and the version bumps it implies.
`by` is the acting membership in the tenant (its guard rails apply: no self-deactivation, no
privilege escalation through the roles it assigns); `by=None` is the platform or system context
(bootstrap, tenant creation by a platform administrator, CLI).

Guard rails: the last active `admin` of a tenant cannot be removed or deactivated; nobody can
deactivate or remove themselves, nor change their own membership attributes (department,
clearance, attributes, manager: they feed policy conditions and scopes); a tenant administrator
edits the global profile only of identities it manages (docs/identities.md)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import IntegrityError, transaction

from tessera.access.escalation import ensure_target_within
from tessera.access.selectors import role_get
from tessera.access.services.admins import ensure_not_last_admin
from tessera.access.services.assignments import role_unassign
from tessera.access.services.delegations import delegations_revoke_given
from tessera.administration.member_input import (
    MEMBERSHIP_FIELDS,
    PROFILE_FIELDS,
    MemberCreated,
    OwnAccessAttributes,
    ProfileManagedElsewhere,
    _assign_roles,
    _clean_create,
    _ensure_not_invited,
    _ensure_not_self,
    _notify_added,
    _roles_of_tenant,
)
from tessera.audit.models import AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.authn.revocation import credentials_revoke_for_membership
from tessera.errors import Conflict, ValidationFailed, field_error
from tessera.identity.models import User
from tessera.identity.services import user_create
from tessera.tenancy.errors import MembershipExists
from tessera.tenancy.invitations import invitation_issue
from tessera.tenancy.member_hooks import member_joined, member_moved
from tessera.tenancy.models import Membership, MembershipStatus, Tenant
from tessera.tenancy.services import (
    membership_create,
    membership_set_manager,
    membership_set_status,
    membership_version_bump,
    tenant_policy_bump,
)


def member_create(
    *,
    tenant: Tenant,
    data: Mapping[str, Any],
    by: Membership | None,
    actor: Actor | None = None,
    vouched: bool = False,
) -> MemberCreated:
    """Add a member: a new global identity, or a membership for an existing one.

    `data` holds the API's fields (email, password?, must_change_password?, roles?, manager_id?,
    profile and membership fields). A new identity is managed by this tenant and its membership
    is active; without a password it gets an invitation to choose one. An existing identity
    managed by this tenant is added active too; any other identity is only invited (membership
    `invited`, granting nothing until the person accepts; tessera.tenancy.invitations), unless
    `vouched` (a platform administrator adding a tenant's first administrator). An existing
    identity keeps its credentials and profile: `password` then answers 422. 409 when already a
    member.
    """
    clean = _clean_create(tenant, data)
    return _member_create_clean(tenant=tenant, clean=clean, by=by, actor=actor, vouched=vouched)


def _password_not_allowed() -> ValidationFailed:
    return ValidationFailed(
        "A password can only be set for a new account",
        errors=[
            field_error(
                "password",
                "This address already has an account: its owner keeps their own password.",
                "not_allowed",
            )
        ],
    )


def _identity_for(*, tenant: Tenant, clean: dict[str, Any]) -> tuple[User, bool]:
    """(identity, created now): a new one is managed by `tenant`. Two tenants creating the same
    new address at once: the loser of the race finds the winner's identity."""
    email = clean["email"]
    user = User.objects.filter(email=email).first()
    if user is not None:
        return user, False
    try:
        user = user_create(
            email=email,
            password=clean.get("password"),
            must_change_password=clean["must_change_password"] if clean.get("password") else False,
            managed_by_tenant=tenant,
            **{k: clean[k] for k in PROFILE_FIELDS if k in clean},
        )
    except Conflict:
        user = User.objects.filter(email=email).first()
        if user is None:
            raise
        return user, False
    return user, True


def _member_create_clean(
    *,
    tenant: Tenant,
    clean: dict[str, Any],
    by: Membership | None,
    actor: Actor | None,
    vouched: bool = False,
) -> MemberCreated:
    email = clean["email"]
    with transaction.atomic():
        user, user_created = _identity_for(tenant=tenant, clean=clean)
        if clean.get("password") and not user_created:
            if Membership.objects.filter(user=user, tenant=tenant).exists():
                raise MembershipExists(f"{email} is already a member of {tenant.slug}")
            raise _password_not_allowed()
        managed_here = user_created or user.managed_by_tenant_id == tenant.pk
        status = MembershipStatus.ACTIVE if managed_here or vouched else MembershipStatus.INVITED
        membership = membership_create(
            tenant=tenant,
            user=user,
            manager=clean.get("manager"),
            actor=actor,
            status=status,
            **{k: clean[k] for k in MEMBERSHIP_FIELDS if k in clean},
        )
        if clean.get("manager") is not None:
            tenant_policy_bump(tenant_id=tenant.pk)  # the manager's team grew
        _assign_roles(membership=membership, roles=clean.get("roles") or (), by=by, actor=actor)
        member_joined(membership=membership, by=by, actor=actor)
        # an invitation: consent for someone else's identity, or a first password to choose
        invite = status == MembershipStatus.INVITED or (user_created and not clean.get("password"))
        audit_record(  # nothing about the identity beyond this tenant: no "existed before"
            type=AuditEventType.USER_CREATED,
            actor=actor,
            tenant_id=tenant.pk,
            resource_type="user",
            resource_id=user.pk,
            changes={
                "email": email,
                "status": status,
                "roles": [r.slug for r in clean.get("roles") or ()],
            },
        )
        if invite:
            invitation_issue(membership=membership, by=by, actor=actor)
        else:
            _notify_added(email=email, tenant=tenant)
    return MemberCreated(membership=membership, user_created=user_created, invited=invite)


def _profile_is_tenant_owned(*, membership: Membership) -> bool:
    """A tenant edits a person's global profile only while it manages the identity (it created
    it and the person has not proved the address yet) and the person is an active member."""
    user = membership.user
    return (
        not user.is_platform_admin
        and user.managed_by_tenant_id == membership.tenant_id
        and membership.status == MembershipStatus.ACTIVE
    )


def member_update(
    *,
    membership: Membership,
    changes: Mapping[str, Any],
    by: Membership | None,
    actor: Actor | None = None,
) -> Membership:
    """Change a member's profile and membership attributes; PROFILE_UPDATE with before/after."""
    ensure_target_within(by, membership)
    errors: list[dict] = []
    allowed = set(PROFILE_FIELDS) | set(MEMBERSHIP_FIELDS) | {"manager_id"}
    for name in sorted(set(changes) - allowed):
        code = "read_only" if name in {"email", "status", "roles", "password"} else "unknown_field"
        errors.append(field_error(name, "Cannot be changed here.", code))
    probe = {"email": membership.user.email, **{k: v for k, v in changes.items() if k in allowed}}
    probe.pop("gdpr_consent_at", None)
    try:
        clean = _clean_create(membership.tenant, probe)
    except ValidationFailed as exc:
        errors.extend(exc.errors or [])
        clean = {}
    if "gdpr_consent_at" in changes:
        clean["gdpr_consent_at"] = changes["gdpr_consent_at"]
    if "employee_id" in changes and changes["employee_id"] in (None, ""):
        clean["employee_id"] = None
    if "manager_id" in changes and changes["manager_id"] in (None, ""):
        clean["manager"] = None
    if errors:
        raise ValidationFailed("Invalid changes", errors=errors)
    profile = {k: clean[k] for k in PROFILE_FIELDS if k in changes and k in clean}
    member = {k: clean.get(k) for k in MEMBERSHIP_FIELDS if k in changes}
    own = by is not None and by.user_id == membership.user_id
    if own and (member or "manager_id" in changes):
        # department, clearance, attributes and reporting line feed policy conditions and scopes
        raise OwnAccessAttributes(
            "You cannot change your own membership attributes",
            errors=[
                field_error(k, "Set by an administrator.", "forbidden")
                for k in [*member, *(["manager_id"] if "manager_id" in changes else [])]
            ],
        )
    if profile and not own and not _profile_is_tenant_owned(membership=membership):
        raise ProfileManagedElsewhere(
            "This person's profile is their own (PATCH /api/v1/auth/me); this tenant edits only "
            "the membership fields",
            errors=[field_error(k, "Managed by the person.", "managed_elsewhere") for k in profile],
        )
    user = membership.user
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name, value in profile.items():
        if getattr(user, name) != value:
            before[name], after[name] = getattr(user, name), value
            setattr(user, name, value)
    member_changed = []
    for name, value in member.items():
        if name == "clearance_level" and value is None:
            value = 0
        if name in ("department", "job_title", "cost_center") and value is None:
            value = ""
        if name == "attributes" and value is None:
            value = {}
        if getattr(membership, name) != value:
            before[name], after[name] = getattr(membership, name), value
            setattr(membership, name, value)
            member_changed.append(name)
    wanted_manager = clean.get("manager")
    manager_changed = "manager_id" in changes and (
        (wanted_manager.pk if wanted_manager is not None else None) != membership.manager_id
    )
    try:
        with transaction.atomic():
            if before.keys() & set(PROFILE_FIELDS):
                user.save(update_fields=[*(k for k in profile if k in after), "updated_at"])
            if member_changed:
                membership.save(update_fields=[*member_changed, "updated_at"])
                # every membership field reaches the engine's subject (conditions, scopes)
                membership_version_bump(membership_id=membership.pk)
            if manager_changed:
                old = membership.manager.user_id if membership.manager is not None else None
                new_manager = clean.get("manager")
                membership_set_manager(membership=membership, manager=new_manager)
                before["manager_id"] = str(old) if old else None
                after["manager_id"] = str(new_manager.user_id) if new_manager else None
            moved = member_moved(membership=membership, before=before, after=after, actor=actor)
            if after:
                audit_record(
                    type=AuditEventType.MEMBER_MOVED if moved else AuditEventType.PROFILE_UPDATE,
                    actor=actor,
                    tenant_id=membership.tenant_id,
                    resource_type="user",
                    resource_id=membership.user_id,
                    changes={"before": before, "after": after, **moved},
                )
    except IntegrityError:
        raise Conflict(
            "Another member of this tenant has this employee id",
            errors=[field_error("employee_id", "Already used in this tenant.", "duplicate")],
        ) from None
    return membership


def member_deactivate(
    *, membership: Membership, by: Membership | None, actor: Actor | None = None
) -> Membership:
    """Suspend the membership and revoke its sessions, refresh tokens and API keys at once."""

    ensure_target_within(by, membership)
    _ensure_not_self(membership=membership, by=by, action="deactivate")
    with transaction.atomic():
        membership.refresh_from_db(fields=["status"])
        if membership.status == MembershipStatus.SUSPENDED:
            return membership
        _ensure_not_invited(membership)
        ensure_not_last_admin(membership=membership)
        before = membership.status
        membership_set_status(membership=membership, status=MembershipStatus.SUSPENDED)
        revoked = credentials_revoke_for_membership(
            membership=membership, reason="member_deactivated", actor=actor
        )
        delegations_revoke_given(membership=membership, actor=actor)
        audit_record(
            type=AuditEventType.USER_DEACTIVATED,
            actor=actor,
            tenant_id=membership.tenant_id,
            resource_type="user",
            resource_id=membership.user_id,
            changes={"before": {"status": before}, "after": {"status": "suspended"}, **revoked},
        )
    return membership


def member_reactivate(
    *, membership: Membership, by: Membership | None, actor: Actor | None = None
) -> Membership:
    """Make a suspended membership active again (an invited one: 409, the person accepts)."""
    ensure_target_within(by, membership)
    with transaction.atomic():
        membership.refresh_from_db(fields=["status"])
        if membership.status == MembershipStatus.ACTIVE:
            return membership
        _ensure_not_invited(membership)
        before = membership.status
        membership_set_status(membership=membership, status=MembershipStatus.ACTIVE)
        audit_record(
            type=AuditEventType.USER_REACTIVATED,
            actor=actor,
            tenant_id=membership.tenant_id,
            resource_type="user",
            resource_id=membership.user_id,
            changes={"before": {"status": before}, "after": {"status": "active"}},
        )
    return membership


def member_remove(
    *, membership: Membership, by: Membership | None, actor: Actor | None = None
) -> None:
    """Remove the membership (the global identity stays); its credentials in the tenant die."""

    ensure_target_within(by, membership)
    _ensure_not_self(membership=membership, by=by, action="remove")
    with transaction.atomic():
        ensure_not_last_admin(membership=membership)
        credentials_revoke_for_membership(
            membership=membership, reason="member_removed", actor=actor
        )
        delegations_revoke_given(membership=membership, actor=actor)
        tenant_id, user_id, email = membership.tenant_id, membership.user_id, membership.user.email
        membership.delete()
        # delegations given by the member and reporting lines through them disappear
        tenant_policy_bump(tenant_id=tenant_id)
        audit_record(
            type=AuditEventType.MEMBERSHIP_REMOVED,
            actor=actor,
            tenant_id=tenant_id,
            resource_type="user",
            resource_id=user_id,
            changes={"email": email},
        )


def member_roles_assign(
    *, membership: Membership, slugs: Sequence[str], by: Membership | None, actor: Actor | None
) -> list[str]:
    """Give the member these roles (all or none): unknown slugs 422 (`roles[i]`), a role the
    actor does not hold entirely 403 `not_held`, a full role (`max_members`) 409."""
    if not slugs:
        raise ValidationFailed("No roles", errors=[field_error("roles", "Name at least one role.")])
    roles = _roles_of_tenant(tenant=membership.tenant, slugs=slugs)
    with transaction.atomic():
        _assign_roles(membership=membership, roles=roles, by=by, actor=actor)
    return [r.slug for r in roles]


def member_role_unassign(
    *, membership: Membership, slug: str, by: Membership | None, actor: Actor | None
) -> None:
    """Take a role away (404 when the tenant has no such role or the member does not hold it).

    The actor must hold what the role allows (a manager cannot demote an administrator); the
    last active administrator keeps `admin` (409 `last_admin`).
    """

    role = role_get(tenant=membership.tenant, slug=slug)
    role_unassign(membership=membership, role=role, by=by, actor=actor)
