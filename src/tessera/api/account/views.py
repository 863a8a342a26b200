"""The person's own account: accept an invitation, prove the email address, edit the profile.

    POST  /api/v1/auth/invitations/accept       {token, password?} → 200 the login answer
    POST  /api/v1/auth/email/verify             {email} → 202 always
    POST  /api/v1/auth/email/verify/confirm     {token, password?} → 204
    PATCH /api/v1/auth/me                       {first_name?, …} → 200 the profile

PATCH /me is registered on the `auth` router (one URL, GET and PATCH); the others on this router
under the same prefix.
"""

from __future__ import annotations

from ninja import Router, Status

from tessera.administration.invitation_accept import invitation_accept
from tessera.api.account.inputs import (
    EmailVerifyConfirmIn,
    EmailVerifyIn,
    InvitationAcceptIn,
    ProfileIn,
)
from tessera.api.account.outputs import ProfileOut, profile_as_dict
from tessera.api.auth.outputs import AcceptedOut, LoginOut, MfaRequiredOut, session_answer
from tessera.api.auth.views import router as auth_router
from tessera.api.problems import Problem
from tessera.api.security import principal_auth
from tessera.audit.actors import actor_from_request
from tessera.authn.deferred import defer
from tessera.authn.errors import ApiKeyNotAllowed, MfaSetupRequired
from tessera.authn.flows.login import LoginPending
from tessera.authn.verification import email_verify_confirm, email_verify_request
from tessera.identity.password_change import PasswordChangeRequired
from tessera.identity.profile import profile_update_own

router = Router(tags=["auth"])


@router.post(
    "/invitations/accept",
    response={
        200: LoginOut | MfaRequiredOut,
        400: Problem,
        401: Problem,
        403: Problem,
        422: Problem,
        429: Problem,
    },
    summary="Accept an invitation and sign in to that tenant",
    description=(
        "`password` is required: a new one when the account was never verified (every earlier "
        "session, refresh token, trusted device, API key and second factor of the account then "
        "ends), otherwise the account's current password. 400 `invalid_token`, "
        "`invitation_expired`, `invitation_used` or `invitation_revoked` (nothing changed); 403 "
        "when another person is signed in. The tenant's MFA policy applies as at login."
    ),
)
def accept_invitation(request, payload: InvitationAcceptIn):
    principal = getattr(request, "principal", None)
    outcome = invitation_accept(
        token=payload.token,
        password=payload.password,
        signed_in_user_id=principal.user_id if principal is not None else None,
        actor=actor_from_request(request),
    )
    if isinstance(outcome, LoginPending):
        return {"mfa_required": True, "mfa_token": outcome.token, **outcome.data}
    return session_answer(
        outcome.tokens,
        user=outcome.user,
        tenant=outcome.tenant,
        password_change_required=outcome.password_change_required,
        mfa_setup_required=outcome.mfa_setup_required,
    )


@router.post(
    "/email/verify",
    response={202: AcceptedOut, 422: Problem},
    summary="Email a link that proves the address (always 202)",
)
def verify_email(request, payload: EmailVerifyIn):
    # the lookup, the token and the mail run after the answer: the same bytes in the same time
    # for a known and an unknown address (tessera.authn.deferred)
    defer(request, email_verify_request, email=payload.email, actor=actor_from_request(request))
    return Status(
        202, {"detail": "If the address belongs to an account, a confirmation link is on its way."}
    )


@router.post(
    "/email/verify/confirm",
    response={204: None, 400: Problem, 422: Problem},
    summary="Prove the address with the mailed token (single use, 24 hours)",
    description=(
        "The account becomes the person's own: no tenant edits its profile any more. When a "
        "tenant managed it, `password` is required and replaces the password it may know; every "
        "earlier credential of the account ends. 400 `invalid_token` (nothing changed)."
    ),
)
def verify_email_confirm(request, payload: EmailVerifyConfirmIn):
    email_verify_confirm(
        token=payload.token, password=payload.password, actor=actor_from_request(request)
    )
    return Status(204, None)


@auth_router.patch(
    "/me",
    auth=principal_auth,
    response={200: ProfileOut, 401: Problem, 403: Problem, 422: Problem},
    summary="Change one's own profile (names, phone, time zone, language, avatar)",
    description=(
        "The profile is the person's, shared by all their tenants. Not with an API key, nor from "
        "a session that must first change its password or set up MFA (403)."
    ),
)
def update_me(request, payload: ProfileIn):
    principal = request.principal
    if principal.api_key_id is not None:
        raise ApiKeyNotAllowed("API keys cannot change the person's profile")
    if principal.password_change_required:
        raise PasswordChangeRequired(
            "Change your password first (POST /api/v1/auth/password/change)"
        )
    if principal.mfa_setup_required:
        raise MfaSetupRequired("Your tenant requires multi-factor authentication: set it up first")
    user = profile_update_own(
        user=principal.user,
        changes=payload.dict(exclude_unset=True),
        actor=actor_from_request(request),
    )
    return profile_as_dict(user)
