"""Member lifecycle: add, change, deactivate, reactivate and remove a tenant's members; bulk import.

Also the platform administrator's tenant services (update, deactivate).

Every write runs in one transaction with its audit event and the version bumps it implies.
`by` is the acting membership in the tenant (its guard rails apply: no self-deactivation, no
privilege escalation through the roles it assigns); `by=None` is the platform or system context
(bootstrap, tenant creation by a platform administrator, CLI).

Guard rails: the last active `admin` of a tenant cannot be removed or deactivated; nobody can
deactivate or remove themselves, nor change their own membership attributes (department,
clearance, attributes, manager: they feed policy conditions and scopes); a tenant administrator
edits the global profile only of identities it manages (docs/identities.md).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction

from tessera.access.escalation import ensure_target_within
from tessera.access.services import delegations_revoke_given, ensure_not_last_admin, role_assign
from tessera.audit.models import AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.errors import Conflict, PermissionDenied, TesseraError, ValidationFailed, field_error
from tessera.identity.emails import normalize_email
from tessera.identity.models import User
from tessera.identity.profile import max_length_of
from tessera.identity.services import user_create
from tessera.tenancy.errors import MembershipExists
from tessera.tenancy.models import Membership, MembershipStatus, Tenant
from tessera.tenancy.services import MEMBERSHIP_FIELDS as _ALL_MEMBERSHIP_FIELDS
from tessera.tenancy.services import (
    membership_create,
    membership_set_manager,
    membership_set_status,
    membership_version_bump,
    tenant_policy_bump,
)

BULK_MAX_ROWS = 1000

# Global profile fields a tenant administrator may set (only for people of this tenant alone).
PROFILE_FIELDS = ("first_name", "last_name", "phone", "timezone", "language", "avatar_url")
# Membership fields a tenant administrator may set (all of them feed policy conditions).
MEMBERSHIP_FIELDS = tuple(f for f in _ALL_MEMBERSHIP_FIELDS if f != "status")
CREATE_FIELDS = frozenset(
    {
        "email",
        "password",
        "must_change_password",
        "roles",
        "manager_id",
        *PROFILE_FIELDS,
        *MEMBERSHIP_FIELDS,
    }
)


_MAX_LENGTHS = {
    **{name: max_length_of(User, name) for name in PROFILE_FIELDS},
    **{
        name: max_length_of(Membership, name)
        for name in ("department", "job_title", "cost_center", "employee_id")
    },
}


class SelfActionForbidden(Conflict):
    code = "self_action_forbidden"


class ProfileManagedElsewhere(Conflict):
    code = "profile_managed_elsewhere"


class OwnAccessAttributes(PermissionDenied):
    code = "own_access_attributes"


class MembershipInvited(Conflict):
    code = "membership_invited"


def _ensure_not_invited(membership: Membership) -> None:
    """Only the person turns an invited membership active (by accepting), nobody else."""
    if membership.status == MembershipStatus.INVITED:
        raise MembershipInvited(
            "The person has not accepted the invitation yet; resend or revoke it instead"
        )


@dataclass(frozen=True, slots=True)
class MemberCreated:
    membership: Membership
    user_created: bool
    invited: bool


# --- validation --------------------------------------------------------------------------------


def _roles_of_tenant(*, tenant: Tenant, slugs: Sequence[str], where: str = "roles") -> list:
    """The tenant's roles named by `slugs` (in order, deduplicated); 422 listing unknown ones."""
    from tessera.access.models import Role

    if not isinstance(slugs, list | tuple) or not all(isinstance(s, str) for s in slugs):
        raise ValidationFailed(
            "Invalid roles", errors=[field_error(where, "A list of role slugs.")]
        )
    wanted = list(dict.fromkeys(slugs))
    found = {r.slug: r for r in Role.objects.filter(tenant=tenant, slug__in=wanted)}
    unknown = [s for s in wanted if s not in found]
    if unknown:
        raise ValidationFailed(
            "Unknown role",
            errors=[
                field_error(
                    f"{where}[{wanted.index(s)}]", f"No role {s!r} in this tenant.", "unknown"
                )
                for s in unknown
            ],
        )
    return [found[s] for s in wanted]


def _manager_of_tenant(*, tenant: Tenant, manager_id) -> Membership | None:
    """The manager's membership in this tenant, addressed by their global user id."""
    if manager_id in (None, ""):
        return None
    from tessera.tenancy.selectors import membership_get

    manager = membership_get(tenant=tenant, user_id=manager_id)
    if manager is None:
        raise ValidationFailed(
            "Unknown manager",
            errors=[field_error("manager_id", "Not a member of this tenant.", "not_found")],
        )
    return manager


def _check_password(*, password: str, email: str, tenant: Tenant) -> None:
    """The password policy of the tenant (and of the person's other tenants): 422 per rule."""
    from tessera.identity.passwords import password_validate

    password_validate(password, email=email, tenant=tenant, field="password")


def _clean_create(tenant: Tenant, data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate one member's creation data; all field errors at once (ValidationFailed)."""
    errors: list[dict] = []
    unknown = sorted(set(data) - CREATE_FIELDS)
    for name in unknown:
        errors.append(field_error(name, "Unknown field.", "unknown_field"))
    clean: dict[str, Any] = {}
    try:
        clean["email"] = normalize_email(data.get("email") or "")
    except ValidationFailed as exc:
        errors.extend(exc.errors or [])
    for name in (*PROFILE_FIELDS, "department", "job_title", "cost_center", "employee_id"):
        value = data.get(name)
        if value is None or (name == "employee_id" and value == ""):
            continue
        if name == "employee_id" and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            errors.append(field_error(name, "A string."))
            continue
        value = value.strip()
        limit = _MAX_LENGTHS[name]
        if len(value) > limit:
            errors.append(field_error(name, f"At most {limit} characters.", "too_long"))
        elif name == "avatar_url" and value and not value.startswith(("https://", "http://")):
            errors.append(field_error(name, "An http(s) URL."))
        else:
            clean[name] = value
    if data.get("clearance_level") is not None:
        try:
            level = int(data["clearance_level"])
            if not 0 <= level <= 32767:
                raise ValueError
            clean["clearance_level"] = level
        except (TypeError, ValueError):
            errors.append(field_error("clearance_level", "An integer from 0."))
    if data.get("attributes") is not None:
        if not isinstance(data["attributes"], dict):
            errors.append(field_error("attributes", "An object."))
        else:
            clean["attributes"] = data["attributes"]
    roles = data.get("roles") or []
    if isinstance(roles, str):
        roles = [roles]
    try:
        clean["roles"] = _roles_of_tenant(tenant=tenant, slugs=roles)
    except ValidationFailed as exc:
        errors.extend(exc.errors or [])
    try:
        clean["manager"] = _manager_of_tenant(tenant=tenant, manager_id=data.get("manager_id"))
    except ValidationFailed as exc:
        errors.extend(exc.errors or [])
    password = data.get("password")
    if password is not None and not isinstance(password, str):
        errors.append(field_error("password", "A string."))
    elif password:
        try:
            _check_password(password=password, email=clean.get("email", ""), tenant=tenant)
        except ValidationFailed as exc:
            errors.extend(exc.errors or [field_error("password", exc.detail)])
        clean["password"] = password
    must_change = data.get("must_change_password")
    if must_change is not None and not isinstance(must_change, bool):
        errors.append(field_error("must_change_password", "A boolean."))
    clean["must_change_password"] = bool(password) if must_change is None else must_change
    if errors:
        raise ValidationFailed("Invalid member", errors=errors)
    return clean


# --- notices -----------------------------------------------------------------------------------


def _notify_added(*, email: str, tenant: Tenant) -> None:
    """A person added without an invitation (their identity is this tenant's) hears of it."""
    from tessera.identity.mailer import mail_queue, page_link

    mail_queue(
        "member_added",
        to=email,
        context={"tenant_name": tenant.name},
        link=page_link("member_added"),
    )


# --- guard rails -------------------------------------------------------------------------------


def _ensure_not_self(*, membership: Membership, by: Membership | None, action: str) -> None:
    if by is not None and by.user_id == membership.user_id:
        raise SelfActionForbidden(f"You cannot {action} yourself")


def _assign_roles(*, membership: Membership, roles: Sequence, by: Membership | None, actor) -> None:
    for role in roles:  # with `granted_by`: no escalation, and max_members holds
        role_assign(membership=membership, role=role, granted_by=by, actor=actor)


# --- members -----------------------------------------------------------------------------------


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
    from tessera.tenancy.invitations import invitation_issue

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
            if after:
                audit_record(
                    type=AuditEventType.PROFILE_UPDATE,
                    actor=actor,
                    tenant_id=membership.tenant_id,
                    resource_type="user",
                    resource_id=membership.user_id,
                    changes={"before": before, "after": after},
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
    from tessera.authn.revocation import credentials_revoke_for_membership

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
    from tessera.authn.revocation import credentials_revoke_for_membership

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
    from tessera.access.selectors import role_get
    from tessera.access.services import role_unassign

    role = role_get(tenant=membership.tenant, slug=slug)
    role_unassign(membership=membership, role=role, by=by, actor=actor)


# --- bulk import -------------------------------------------------------------------------------


@dataclass(slots=True)
class BulkRowResult:
    row: int
    email: str
    status: str  # "created" | "exists" | "error"
    id: str | None = None
    errors: list[dict] = field(default_factory=list)
    membership_status: str | None = None  # "active" | "invited" (the API's active/invited rule)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"row": self.row, "email": self.email, "status": self.status}
        if self.id:
            out["id"] = self.id
        if self.membership_status:
            out["membership_status"] = self.membership_status
        if self.errors:
            out["errors"] = self.errors
        return out


CSV_COLUMNS = frozenset(CREATE_FIELDS - {"password", "must_change_password", "attributes"})
CSV_LIST_SEPARATORS = (";", "|")


def bulk_rows_from_csv(text: str) -> list[dict[str, Any]]:
    """Rows of a CSV document with a header line (stdlib csv); `roles` separated by `;` or `|`."""
    if not text.strip():
        raise ValidationFailed("Empty CSV", errors=[field_error("file", "No rows.", "empty")])
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""), strict=True)
    try:
        header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
        unknown = [h for h in header if h not in CSV_COLUMNS]
        if "email" not in header or unknown:
            errors = [
                field_error("columns", f"Unknown column {h!r}.", "unknown_column") for h in unknown
            ]
            if "email" not in header:
                errors.append(field_error("columns", "An `email` column is required.", "required"))
            raise ValidationFailed("Invalid CSV header", errors=errors)
        reader.fieldnames = header
        rows: list[dict[str, Any]] = []
        for number, raw in enumerate(reader, start=2):
            if len(rows) >= BULK_MAX_ROWS:
                raise _too_many()
            if None in raw:  # more cells than columns
                raise ValidationFailed(
                    "Invalid CSV row",
                    errors=[field_error(f"rows[{len(rows)}]", f"Line {number}: too many cells.")],
                )
            row: dict[str, Any] = {}
            for key, value in raw.items():
                value = (value or "").strip()
                if not value:
                    continue
                if key == "roles":
                    for sep in CSV_LIST_SEPARATORS:
                        value = value.replace(sep, ",")
                    row[key] = [r.strip() for r in value.split(",") if r.strip()]
                else:
                    row[key] = value
            rows.append(row)
    except csv.Error as exc:
        raise ValidationFailed(
            "Malformed CSV", errors=[field_error("file", f"Line {reader.line_num}: {exc}.")]
        ) from None
    return rows


def _too_many() -> ValidationFailed:
    return ValidationFailed(
        "Too many rows",
        errors=[field_error("users", f"At most {BULK_MAX_ROWS} rows per request.", "too_many")],
    )


def member_bulk_create(
    *,
    tenant: Tenant,
    rows: Sequence[Mapping[str, Any]],
    by: Membership | None,
    actor: Actor | None = None,
) -> list[BulkRowResult]:
    """Create many members, idempotent by email, with one result per row.

    All rows are validated first: any invalid row refuses the whole request (422 listing each
    error as `users[i].field`) and nothing is written. Then each row is written in its own
    savepoint: a row that fails there (a guard rail, a duplicate employee id) is reported and
    leaves nothing behind, the others are kept. A row whose email is already a member is
    `exists` and is not changed, so the same import can be run twice. Each row follows
    member_create's rule: `membership_status` is `active` for a new identity or one this tenant
    manages, `invited` (with an invitation mailed) for anyone else.
    """
    if len(rows) > BULK_MAX_ROWS:
        raise _too_many()
    if not rows:
        raise ValidationFailed("No rows", errors=[field_error("users", "No rows.", "empty")])
    cleaned, errors = [], []
    for index, row in enumerate(rows):
        if not isinstance(row, Mapping):
            errors.append(field_error(f"users[{index}]", "An object."))
            continue
        data = {k: v for k, v in row.items() if k not in ("password", "must_change_password")}
        try:
            cleaned.append(_clean_create(tenant, data))
        except ValidationFailed as exc:
            for err in exc.errors or []:
                errors.append({**err, "field": f"users[{index}].{err['field']}"})
    if errors:
        raise ValidationFailed("Invalid rows; nothing was imported", errors=errors)
    from tessera.tenancy.member_selectors import member_by_email

    results: list[BulkRowResult] = []
    seen: dict[str, BulkRowResult] = {}
    with transaction.atomic():
        for index, clean in enumerate(cleaned):
            email = clean["email"]
            if email in seen:
                results.append(BulkRowResult(index, email, "exists", seen[email].id))
                continue
            existing = member_by_email(tenant=tenant, email=email)
            if existing is not None:
                result = BulkRowResult(
                    index, email, "exists", str(existing.user_id), membership_status=existing.status
                )
            else:
                try:
                    with transaction.atomic():
                        created = _member_create_clean(
                            tenant=tenant, clean=clean, by=by, actor=actor
                        )
                    result = BulkRowResult(
                        index,
                        email,
                        "created",
                        str(created.membership.user_id),
                        membership_status=created.membership.status,
                    )
                except TesseraError as exc:
                    result = BulkRowResult(
                        index,
                        email,
                        "error",
                        errors=exc.errors or [field_error("row", exc.detail, exc.code)],
                    )
            seen[email] = result
            results.append(result)
    return results


# --- tenants (platform administrators) --------------------------------------------------------


TENANT_FIELDS = ("name", "is_active", "settings")


def tenant_update(
    *, tenant: Tenant, changes: Mapping[str, Any], actor: Actor | None = None
) -> Tenant:
    """Rename, (de)activate or reconfigure a tenant; TENANT_UPDATED with before/after."""
    from tessera.tenancy.services import tenant_settings_update

    unknown = sorted(set(changes) - set(TENANT_FIELDS))
    if unknown:
        raise ValidationFailed(
            "Unknown fields",
            errors=[field_error(n, "Cannot be changed here.", "read_only") for n in unknown],
        )
    name = changes.get("name")
    if "name" in changes and (not isinstance(name, str) or not name.strip() or len(name) > 200):
        raise ValidationFailed("Invalid name", errors=[field_error("name", "1–200 characters.")])
    active = changes.get("is_active")
    if "is_active" in changes and not isinstance(active, bool):
        raise ValidationFailed("Invalid is_active", errors=[field_error("is_active", "A boolean.")])
    with transaction.atomic():
        if changes.get("settings") is not None:
            tenant_settings_update(tenant=tenant, patch=changes["settings"], actor=actor)
        if isinstance(name, str) and name.strip() != tenant.name:  # validated above
            before = tenant.name
            tenant.name = name.strip()
            tenant.save(update_fields=["name", "updated_at"])
            audit_record(
                type=AuditEventType.TENANT_UPDATED,
                actor=actor,
                tenant_id=tenant.pk,
                resource_type="tenant",
                resource_id=tenant.pk,
                changes={"before": {"name": before}, "after": {"name": tenant.name}},
            )
        if active is False and tenant.is_active:
            tenant_deactivate(tenant=tenant, actor=actor)
        elif active is True and not tenant.is_active:
            tenant_reactivate(tenant=tenant, actor=actor)
    return tenant


def tenant_deactivate(*, tenant: Tenant, actor: Actor | None = None) -> Tenant:
    """Nobody can act in the tenant any more; every session in it is revoked at once."""
    from tessera.authn.revocation import credentials_revoke_for_tenant

    with transaction.atomic():
        Tenant.objects.filter(pk=tenant.pk).update(is_active=False)
        tenant.is_active = False
        revoked = credentials_revoke_for_tenant(
            tenant=tenant, reason="tenant_deactivated", actor=actor
        )
        audit_record(
            type=AuditEventType.TENANT_DEACTIVATED,
            actor=actor,
            tenant_id=tenant.pk,
            resource_type="tenant",
            resource_id=tenant.pk,
            changes={"before": {"is_active": True}, "after": {"is_active": False}, **revoked},
        )
    return tenant


def tenant_reactivate(*, tenant: Tenant, actor: Actor | None = None) -> Tenant:
    with transaction.atomic():
        Tenant.objects.filter(pk=tenant.pk).update(is_active=True)
        tenant.is_active = True
        tenant_policy_bump(tenant_id=tenant.pk)
        audit_record(
            type=AuditEventType.TENANT_UPDATED,
            actor=actor,
            tenant_id=tenant.pk,
            resource_type="tenant",
            resource_id=tenant.pk,
            changes={"before": {"is_active": False}, "after": {"is_active": True}},
        )
    return tenant


def tenant_create_with_admin(
    *, slug: str, name: str, admin_email: str | None = None, actor: Actor | None = None
) -> tuple[Tenant, MemberCreated | None]:
    """A new tenant with its built-in roles and, given an email, its first administrator.

    A platform administrator vouches for the administrator: the membership is active at once,
    for an existing identity too; a new identity gets an invitation to choose its password.
    """
    from tessera.tenancy.services import tenant_create

    email = None
    if admin_email:
        try:
            email = normalize_email(admin_email)
        except ValidationFailed:
            raise ValidationFailed(
                "Invalid admin email",
                errors=[field_error("admin_email", "Enter a valid email address.")],
            ) from None
    with transaction.atomic():
        tenant = tenant_create(slug=slug, name=name, actor=actor)
        created = None
        if email:
            created = member_create(
                tenant=tenant,
                data={"email": email, "roles": ["admin"]},
                by=None,
                actor=actor,
                vouched=True,
            )
    return tenant, created
