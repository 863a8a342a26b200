"""What an impersonation session may never do: change credentials, MFA, API keys, sessions, or
impersonate again. One list, checked once per request by `tessera.authn.request_auth`.

An impersonation session lets support staff see and do what a member sees and does; the member's
own way in — password, second factors, trusted devices, API keys, other sessions, invitations,
email address, tenant switch — stays theirs. Each unsafe call listed here answers 403
`impersonation_forbidden` before any view runs (reads are allowed). `POST /api/v1/auth/logout`
(without `all`) and `POST /api/v1/auth/impersonate/end` end the impersonation itself and pass.
"""

from __future__ import annotations

import re

from tessera.errors import PermissionDenied


class ImpersonationForbidden(PermissionDenied):
    code = "impersonation_forbidden"


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

REFUSED_PATHS = re.compile(
    r"^/api/v1/(?:"
    r"auth/(?:password|mfa|sessions|email|invitations|switch-tenant)(?:/|$)"
    r"|auth/impersonate/?$"
    r"|api-keys(?:/|$)"
    r"|service-accounts(?:/|$)"
    r"|scim-tokens(?:/|$)"
    r"|identity-providers(?:/|$)"
    r"|users/[^/]+/(?:mfa|sessions|offboard)(?:/|$)"
    r")"
)


def impersonation_refuse_credential_change(method: str, path: str) -> None:
    """403 `impersonation_forbidden` when an impersonation session asks for a listed change."""
    if method.upper() in SAFE_METHODS:
        return
    if REFUSED_PATHS.match(path):
        raise ImpersonationForbidden(
            "An impersonation session cannot change credentials, MFA, API keys or sessions, "
            "nor impersonate again"
        )


def impersonation_refuse_logout_all() -> None:
    """Ending every session of the impersonated member is theirs to do, not the impersonator's."""
    raise ImpersonationForbidden(
        "An impersonation session cannot end the member's other sessions: "
        "log out (without `all`) or end the impersonation"
    )
