"""Errors of the authentication layer (subclasses of tessera.errors; mapped to HTTP once).

NotAuthenticated (401)
├── InvalidCredentials        bad email/password (one body for every reason)
├── TokenInvalid              access token malformed, forged, expired, of another kind
├── SessionEnded              session revoked or expired, membership no longer active
└── RefreshTokenInvalid       refresh token unknown, spent, expired or revoked
PermissionDenied (403)
├── PasswordChangeRequired    only the password may change (tessera.identity.password_change)
├── MfaSetupRequired          the tenant requires MFA: the session may only set it up
├── ApiKeyNotAllowed          API keys cannot manage sign-in (/api/v1/auth/*) nor API keys
├── ReauthenticationRequired  the operation needs a password entered in the last 10 minutes
└── CsrfFailed                cookie-authenticated unsafe request without a valid CSRF token
InvalidInput (400)
└── ResetTokenInvalid         password-reset token unknown, used or expired
RateLimited (429)
└── TooManyAttempts           account locked or client IP blocked (one body for both)
"""

from __future__ import annotations

from tessera.errors import InvalidInput, NotAuthenticated, PermissionDenied, RateLimited


class InvalidCredentials(NotAuthenticated):
    code = "invalid_credentials"


class TokenInvalid(NotAuthenticated):
    code = "invalid_token"


class SessionEnded(NotAuthenticated):
    code = "session_ended"


class RefreshTokenInvalid(NotAuthenticated):
    code = "invalid_refresh_token"


class MfaSetupRequired(PermissionDenied):
    code = "mfa_setup_required"


class ApiKeyNotAllowed(PermissionDenied):
    code = "api_key_not_allowed"


class ReauthenticationRequired(PermissionDenied):
    code = "reauthentication_required"


class CsrfFailed(PermissionDenied):
    code = "csrf_failed"


class ResetTokenInvalid(InvalidInput):
    code = "invalid_reset_token"


class TooManyAttempts(RateLimited):
    code = "too_many_attempts"


INVALID_CREDENTIALS_DETAIL = "Invalid email or password."
TOO_MANY_ATTEMPTS_DETAIL = "Too many failed sign-in attempts. Try again later."
