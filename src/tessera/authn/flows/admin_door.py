"""The admin site's door in the password login (`login_password(purpose="admin")`): platform
administrators only, with a second factor when the platform requires one, and a password that
need not be changed first. Each refusal is written to the platform's audit trail."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from tessera.audit.models import AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.authn.errors import INVALID_CREDENTIALS_DETAIL, InvalidCredentials
from tessera.errors import PermissionDenied
from tessera.identity.mfa import mfa_enabled
from tessera.identity.models import User
from tessera.identity.password_change import PasswordChangeRequired


class AdminMfaRequired(PermissionDenied):
    code = "mfa_setup_required"


ADMIN_PASSWORD_CHANGE_DETAIL = (
    "Your password must be changed before you use the admin site: sign in to the API and change "
    "it (POST /api/v1/auth/password/change), then sign in here again."
)
ADMIN_MFA_REQUIRED_DETAIL = (
    "Platform administrators must have a second factor to use the admin site. Sign in to the API "
    "and set up an authenticator (POST /api/v1/auth/mfa/totp/setup, then /totp/confirm), then "
    "sign in here again."
)


def admin_allowed(user: User, actor: Actor) -> None:
    """The admin site's door: platform administrators only (others: the one 401), with a second
    factor when the platform requires one. Both refusals are in the platform's trail."""
    reason = None
    if not user.is_platform_admin:
        reason = "not_platform_admin"
    elif settings.ADMIN_REQUIRE_MFA and not mfa_enabled(user_id=user.pk):
        reason = "mfa_not_set_up"
    if reason is not None:
        admin_refuse(user, actor, reason)


def admin_refuse(user: User, actor: Actor, reason: str) -> None:
    with transaction.atomic():
        audit_record(
            type=AuditEventType.LOGIN_FAILED,
            actor=actor,
            tenant_id=None,
            resource_type="user",
            resource_id=user.pk,
            changes={"reason": reason, "door": "admin"},
        )
    if reason == "not_platform_admin":
        raise InvalidCredentials(INVALID_CREDENTIALS_DETAIL)
    if reason == "password_change_required":
        raise PasswordChangeRequired(ADMIN_PASSWORD_CHANGE_DETAIL)
    raise AdminMfaRequired(ADMIN_MFA_REQUIRED_DETAIL)
