"""What a tenant administrator may set on a member, checked: fields, roles, manager, password;
the member services' errors and guard rails."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tessera.access.models import Role
from tessera.access.services.assignments import role_assign
from tessera.errors import Conflict, PermissionDenied, ValidationFailed, field_error
from tessera.identity.emails import normalize_email
from tessera.identity.mailer import mail_queue, page_link
from tessera.identity.models import User
from tessera.identity.passwords import password_validate
from tessera.identity.profile import max_length_of
from tessera.tenancy.errors import SelfActionForbidden
from tessera.tenancy.models import Membership, MembershipStatus, Tenant
from tessera.tenancy.selectors import membership_get
from tessera.tenancy.services import MEMBERSHIP_FIELDS as _ALL_MEMBERSHIP_FIELDS

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

    manager = membership_get(tenant=tenant, user_id=manager_id)
    if manager is None:
        raise ValidationFailed(
            "Unknown manager",
            errors=[field_error("manager_id", "Not a member of this tenant.", "not_found")],
        )
    return manager


def _check_password(*, password: str, email: str, tenant: Tenant) -> None:
    """The password policy of the tenant (and of the person's other tenants): 422 per rule."""

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
