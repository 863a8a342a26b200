"""Errors of single sign-on. Each has a stable `code`; the sign-in failures are also recorded
(LOGIN_FAILED, `method: sso`, with the reason) so that threat rules see them.

    SsoStateInvalid          400  state unknown, used, expired, or from another browser
    SsoProviderError         400  the provider answered the sign-in with an error
    SsoTokenInvalid          401  the ID token failed validation (issuer, audience, expiry,
                                  nonce, signature, at_hash, hd / tid)
    SsoEmailNotVerified      403  first sign-in: the email is not verified by the provider
    SsoDomainNotVerified     403  first sign-in: the email is not in the tenant's verified domain
    SsoLinkRefused           403  the address belongs to an identity the provider may not claim
    SsoNotAllowed            403  no membership and no just-in-time provisioning
    MembershipSuspended      403  the member is suspended (or invited)
    SsoRequired              403  password login refused: the tenant requires SSO (says where)
    ProviderDisabled         404  the provider is disabled (as unknown)
    SsoCodeInvalid           400  a one-time code unknown, used or older than 60 s
    ReturnToNotAllowed       400  return_to is not one of the provider's registered origins
    ProviderUnavailable      502  the provider (discovery, JWKS, token endpoint) did not answer
"""

from __future__ import annotations

from typing import Any

from tessera.errors import (
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    TesseraError,
    ValidationFailed,
)


class SsoStateInvalid(InvalidInput):
    code = "sso_state_invalid"


class SsoProviderError(InvalidInput):
    code = "sso_provider_error"


class SsoTokenInvalid(NotAuthenticated):
    code = "sso_token_invalid"


class SsoEmailNotVerified(PermissionDenied):
    code = "sso_email_not_verified"


class SsoDomainNotVerified(PermissionDenied):
    code = "sso_domain_not_verified"


class SsoLinkRefused(PermissionDenied):
    code = "sso_link_refused"


class SsoNotAllowed(PermissionDenied):
    code = "sso_not_a_member"


class MembershipSuspended(PermissionDenied):
    code = "membership_suspended"


class SsoRequired(PermissionDenied):
    """Password login refused; `extensions` carry where to sign in instead."""

    code = "sso_required"

    def __init__(self, detail: str, *, extensions: dict[str, Any]) -> None:
        super().__init__(detail)
        self.extensions = extensions


class ProviderDisabled(NotFound):
    code = "not_found"


class SsoCodeInvalid(InvalidInput):
    code = "sso_code_invalid"


class ReturnToNotAllowed(InvalidInput):
    code = "return_to_not_allowed"


class ProviderInvalid(ValidationFailed):
    code = "identity_provider_invalid"


class ProviderUnavailable(TesseraError):
    status = 502
    code = "sso_provider_unavailable"
    title = "Bad gateway"
