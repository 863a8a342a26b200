"""/api/v1/auth/mfa: TOTP enrolment, backup codes, the login's MFA step, trusted devices.

Thin transport over tessera.authn.flows.mfa (flows), tessera.identity.mfa (factors) and
tessera.authn.devices. Secrets (the TOTP secret, backup codes, tokens) appear only in the answer
that creates them, with `Cache-Control: no-store`, and are never logged.

A wrong, expired, replayed or malformed code answers 401 `invalid_mfa_code` (one body whatever
the reason). Regenerating backup codes needs a current code (TOTP, or an unused backup code);
disabling needs the password and a current code. Code failures count toward the account lockout
(429 with `Retry-After` while locked).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from ninja import Router, Status

from tessera.api.auth.outputs import session_answer
from tessera.api.mfa.inputs import CodeIn, DisableIn, MfaVerifyIn
from tessera.api.mfa.outputs import (
    BackupCodesOut,
    DevicePage,
    MfaLoginOut,
    MfaStatusOut,
    TotpSetupOut,
)
from tessera.api.problems import Problem
from tessera.api.security import principal_auth
from tessera.audit.actors import actor_from_request
from tessera.authn.devices import device_get_for_user, device_revoke, devices_live_for_user
from tessera.authn.flows.mfa import mfa_required_for, mfa_verify
from tessera.authn.flows.mfa_session import (
    backup_codes_regenerate_checked,
    mfa_confirm,
    mfa_disable,
)
from tessera.authn.session_cookie import session_cookie_set
from tessera.authn.sessions import session_require_recent_auth
from tessera.errors import NotFound
from tessera.identity.mfa import DEFAULT_ISSUER, mfa_status, totp_setup

router = Router(tags=["mfa"])


NO_STORE = "no-store"


ERRORS = {401: Problem, 403: Problem, 409: Problem, 422: Problem, 429: Problem}


@router.post(
    "/verify",
    response={200: MfaLoginOut, 401: Problem, 422: Problem, 429: Problem},
    summary="Finish a login that answered `mfa_required` (TOTP or backup code)",
    description=(
        "`mfa_token` works once, for 5 minutes, from the client that signed in. 401 (one body) "
        "for a wrong code or a dead token; 429 while the account is locked. With `trust_device` "
        "(and the tenant allowing trusted devices) the answer carries a `device_token`: send it "
        "as `device_token` to /auth/login to skip this step for 30 days."
    ),
)
def verify(request, response: HttpResponse, payload: MfaVerifyIn):
    result = mfa_verify(
        token=payload.mfa_token,
        code=payload.code,
        trust_device=payload.trust_device,
        actor=actor_from_request(request),
    )
    outcome = result.success
    assert outcome.tokens is not None  # an API sign-in issues tokens (an admin-site one has none)
    response["Cache-Control"] = NO_STORE
    if payload.cookie:
        session_cookie_set(
            request, response, outcome.tokens.session, actor=actor_from_request(request)
        )
    return {
        **session_answer(
            outcome.tokens,
            user=outcome.user,
            tenant=outcome.tenant,
            password_change_required=outcome.password_change_required,
            mfa_setup_required=outcome.mfa_setup_required,
        ),
        "device_token": result.device_token,
    }


@router.get(
    "",
    auth=principal_auth,
    response={200: MfaStatusOut, **ERRORS},
    summary="The caller's MFA state",
)
def status(request):
    principal = request.principal
    found = mfa_status(user_id=principal.user_id)
    return {
        "enabled": found.enabled,
        "pending": found.pending,
        "confirmed_at": found.confirmed_at,
        "backup_codes_remaining": found.backup_codes_remaining,
        "required": mfa_required_for(
            membership=getattr(request, "membership", None), tenant=getattr(request, "tenant", None)
        ),
    }


@router.post(
    "/totp/setup",
    auth=principal_auth,
    response={200: TotpSetupOut, **ERRORS},
    summary="Start TOTP enrolment: the secret, its otpauth URI and a QR code (SVG)",
    description=(
        "The factor is active only once `POST /totp/confirm` receives a valid code. Calling setup "
        "again replaces a pending (unconfirmed) secret; 409 `mfa_already_enabled` when MFA is on. "
        "Needs a password entered within the last 10 minutes (403 `reauthentication_required`)."
    ),
)
def setup(request, response: HttpResponse):
    # a stolen access token must not be able to enrol its own authenticator
    session_require_recent_auth(session_id=request.principal.session_id)
    issuer = getattr(settings, "MFA_ISSUER", DEFAULT_ISSUER)
    found = totp_setup(user=request.principal.user, issuer=issuer)
    response["Cache-Control"] = NO_STORE
    return {"secret": found.secret, "otpauth_uri": found.otpauth_uri, "qr_svg": found.qr_svg}


@router.post(
    "/totp/confirm",
    auth=principal_auth,
    response={200: BackupCodesOut, **ERRORS},
    summary="Activate TOTP with a valid code; answers the ten backup codes (shown once)",
)
def confirm(request, response: HttpResponse, payload: CodeIn):
    principal = request.principal
    codes = mfa_confirm(
        user=principal.user,
        code=payload.code,
        session_id=principal.session_id,
        actor=actor_from_request(request),
        tenant_id=principal.tenant_id,
    )
    response["Cache-Control"] = NO_STORE
    return {"backup_codes": codes}


@router.post(
    "/backup-codes/regenerate",
    auth=principal_auth,
    response={200: BackupCodesOut, **ERRORS},
    summary="Ten new backup codes (the old ones stop working); needs a current code",
)
def regenerate(request, response: HttpResponse, payload: CodeIn):
    principal = request.principal
    codes = backup_codes_regenerate_checked(
        user=principal.user,
        code=payload.code,
        actor=actor_from_request(request),
        tenant_id=principal.tenant_id,
    )
    response["Cache-Control"] = NO_STORE
    return {"backup_codes": codes}


@router.post(
    "/disable",
    auth=principal_auth,
    response={204: None, **ERRORS},
    summary="Turn MFA off (password and a current code); trusted devices are revoked",
)
def disable(request, payload: DisableIn):
    principal = request.principal
    mfa_disable(
        user=principal.user,
        password=payload.password,
        code=payload.code,
        actor=actor_from_request(request),
        session_id=principal.session_id,
        membership=getattr(request, "membership", None),
        tenant=getattr(request, "tenant", None),
    )
    return Status(204, None)


@router.get(
    "/devices",
    auth=principal_auth,
    response={200: DevicePage, **ERRORS},
    summary="The caller's trusted devices (live ones, newest first)",
)
def list_devices(request):
    devices = devices_live_for_user(user_id=request.principal.user_id, now=timezone.now())
    return {
        "items": [
            {
                "id": str(d.pk),
                "created_at": d.created_at,
                "expires_at": d.expires_at,
                "last_used_at": d.last_used_at,
                "ip": d.ip,
                "user_agent": d.user_agent,
            }
            for d in devices
        ],
        "next_cursor": None,
    }


@router.delete(
    "/devices/{device_id}",
    auth=principal_auth,
    response={204: None, 404: Problem, **ERRORS},
    summary="Stop trusting one of the caller's devices",
)
def delete_device(request, device_id: str):
    principal = request.principal
    device = device_get_for_user(user_id=principal.user_id, device_id=device_id)
    if device is None:
        raise NotFound("No such trusted device")
    device_revoke(device=device, actor=actor_from_request(request), tenant_id=principal.tenant_id)
    return Status(204, None)
