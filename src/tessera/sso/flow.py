"""The sign-in flow: start → the provider → callback → a session (cookie) or a one-time code.

    sso_start(provider, return_to, mode)
      ├─ return_to not at a registered origin ─────→ 400 return_to_not_allowed
      ├─ provider down (discovery) ────────────────→ 502 sso_provider_unavailable
      └─ SsoAttempt(state#, nonce, PKCE verifier, browser#) → URL of the provider
    sso_callback(state, code | error, browser cookie)
      ├─ state unknown, used, expired, other browser → 400 sso_state_invalid
      ├─ provider's error ─────────────────────────→ 400 sso_provider_error
      ├─ token endpoint / JWKS down ───────────────→ 502 (nothing created)
      ├─ ID token invalid ─────────────────────────→ 401 sso_token_invalid
      ├─ person refused (linking.py) ──────────────→ 403 …
      └─ one transaction: link / JIT, claims → membership, groups → roles, then
           mode=code: SsoCode (60 s, once) · mode=cookie: the session at once
    sso_exchange(code) ─────────────────────────────→ the login answer (once, within 60 s)

Sessions and tokens come from the password login's own completion (`login_complete`) with
`auth_method` `sso` or `sso+mfa`: session limits, MFA policy (the tenant decides whether the
provider's `amr` counts: `settings.sso.mfa_from_provider`; otherwise the person's own second
factor is asked exactly as after a password), audit LOGIN and threat rules all apply. Every
refusal records LOGIN_FAILED (`method: sso`, the reason, the provider's error) in the tenant's
trail, outside the refused transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from django.db import transaction
from django.utils import timezone

from tessera import metrics
from tessera.audit.models import AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.authn.flows.login import (
    STEPS,
    LoginAttempt,
    LoginPending,
    LoginSuccess,
    login_complete,
)
from tessera.authn.models import AuthMethod
from tessera.errors import TesseraError, ValidationFailed
from tessera.sso.errors import (
    ProviderUnavailable,
    SsoCodeInvalid,
    SsoProviderError,
    SsoStateInvalid,
)
from tessera.sso.linking import Person
from tessera.sso.metadata import http_timeout, provider_metadata, url_allowed
from tessera.sso.models import IdentityProvider, ProviderKind, SsoAttempt, SsoCode
from tessera.sso.providers import client_secret_of
from tessera.sso.provisioning import actor_as, mfa_from_provider, sign_in_apply
from tessera.sso.return_to import return_to_check
from tessera.sso.selectors import callback_url
from tessera.sso.validation import id_token_validate
from tessera.tenancy.models import Membership

ATTEMPT_TTL = timedelta(minutes=10)
CODE_TTL = timedelta(seconds=60)
MODES = ("code", "cookie")
MAX_INPUT = 2048


@dataclass(frozen=True, slots=True)
class Started:
    url: str
    browser: str  # the cookie value binding the attempt to this browser


@dataclass(frozen=True, slots=True)
class CallbackOutcome:
    """Where the browser goes: `return_to` with `?code=` (mode code), `return_to` with a session
    (mode cookie: `success`), or no `return_to`: the code in a JSON answer."""

    return_to: str
    code: str | None = None
    success: LoginSuccess | None = None

    @property
    def location(self) -> str:
        if not self.code:
            return self.return_to
        joiner = "&" if urlsplit(self.return_to).query else "?"
        return f"{self.return_to}{joiner}{urlencode({'code': self.code})}"


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def sso_failed(
    *,
    provider: IdentityProvider | None,
    actor: Actor,
    reason: str,
    user_id: Any = None,
    **details: Any,
) -> None:
    """Record a refused SSO sign-in (LOGIN_FAILED, `method: sso`) in the provider's tenant's
    trail (the platform's when no provider is known), in its own transaction."""
    metrics.login_attempt("sso_failed")
    changes = {"method": "sso", "reason": reason, **{k: v for k, v in details.items() if v}}
    if provider is not None:
        changes["provider_id"] = str(provider.pk)
    with transaction.atomic():
        audit_record(
            type=AuditEventType.LOGIN_FAILED,
            actor=actor,
            tenant_id=provider.tenant_id if provider is not None else None,
            resource_type="user" if user_id else "",
            resource_id=user_id or "",
            changes=changes,
        )


def _oauth_client(provider: IdentityProvider) -> OAuth2Session:
    return OAuth2Session(
        client_id=provider.client_id,
        client_secret=client_secret_of(provider) or None,
        scope=" ".join(provider.scopes or ["openid"]),
        redirect_uri=callback_url(),
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic"
        if provider.client_secret_sealed
        else "none",
    )


def sso_start(
    *, provider: IdentityProvider, return_to: str | None, mode: str | None, actor: Actor
) -> Started:
    """Begin a sign-in (see the module docstring)."""
    mode = mode or "code"
    if mode not in MODES:
        raise ValidationFailed("mode is code or cookie")
    target = return_to_check(provider, return_to)
    endpoints = provider_metadata(provider)
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    verifier, browser = secrets.token_urlsafe(48), secrets.token_urlsafe(32)
    now = timezone.now()
    attempts_cleanup(now=now)  # expired attempts and codes go (indexed by expiry)
    SsoAttempt.objects.create(
        provider=provider,
        state_hash=_digest(state),
        browser_hash=_digest(browser),
        nonce=nonce,
        code_verifier=verifier,
        return_to=target,
        mode=mode,
        created_at=now,
        expires_at=now + ATTEMPT_TTL,
    )
    extra: dict[str, str] = {"nonce": nonce}
    if provider.kind == ProviderKind.GOOGLE and provider.hosted_domain:
        extra["hd"] = provider.hosted_domain
    with _oauth_client(provider) as client:
        url, _ = client.create_authorization_url(
            endpoints["authorization_endpoint"], state=state, code_verifier=verifier, **extra
        )
    return Started(url=url, browser=browser)


def _attempt_take(*, state: str, browser: str | None, actor: Actor) -> SsoAttempt:
    """The attempt `state` names, used up now; 400 for a forged, replayed, expired or
    foreign-browser state."""
    if not isinstance(state, str) or not state or len(state) > MAX_INPUT:
        sso_failed(provider=None, actor=actor, reason="state_missing")
        raise SsoStateInvalid("The sign-in state is missing or unknown; start again")
    now = timezone.now()
    attempt = (
        SsoAttempt.objects.select_related("provider", "provider__tenant")
        .filter(state_hash=_digest(state))
        .first()
    )
    if attempt is None:
        sso_failed(provider=None, actor=actor, reason="state_unknown")
        raise SsoStateInvalid("The sign-in state is missing or unknown; start again")
    reason = None
    if attempt.used_at is not None:
        reason = "state_replayed"
    elif attempt.expires_at <= now:
        reason = "state_expired"
    elif not browser or not secrets.compare_digest(_digest(browser), attempt.browser_hash):
        reason = "state_other_browser"
    elif not SsoAttempt.objects.filter(pk=attempt.pk, used_at__isnull=True).update(used_at=now):
        reason = "state_replayed"  # a concurrent callback with the same state won
    if reason is not None:
        sso_failed(provider=attempt.provider, actor=actor, reason=reason)
        raise SsoStateInvalid(
            "This sign-in cannot continue (used, expired, or started in another browser); "
            "start again"
        )
    return attempt


def _tokens(provider: IdentityProvider, attempt: SsoAttempt, code: str) -> dict[str, Any]:
    endpoints = provider_metadata(provider)
    if not url_allowed(endpoints["token_endpoint"]):
        raise ProviderUnavailable("The identity provider's token endpoint is not https")
    try:
        with _oauth_client(provider) as client:
            token = client.fetch_token(
                endpoints["token_endpoint"],
                grant_type="authorization_code",
                code=code,
                code_verifier=attempt.code_verifier,
                redirect_uri=callback_url(),
                timeout=http_timeout(),
                allow_redirects=False,
            )
    except requests.RequestException:
        raise ProviderUnavailable("The identity provider did not answer (token)") from None
    except OAuthError as exc:
        raise SsoProviderError(
            f"The identity provider refused the code: {exc.error}"[:300]
        ) from None
    except ValueError:
        raise ProviderUnavailable("The identity provider's token answer is not JSON") from None
    return dict(token)


def sso_callback(
    *,
    state: str | None,
    code: str | None,
    error: str | None,
    error_description: str | None,
    browser: str | None,
    actor: Actor,
) -> CallbackOutcome:
    """Finish the provider's part (see the module docstring)."""
    attempt = _attempt_take(state=state or "", browser=browser, actor=actor)
    provider = attempt.provider
    if not provider.enabled or not provider.tenant.is_active:
        sso_failed(provider=provider, actor=actor, reason="provider_disabled")
        raise SsoStateInvalid("This identity provider is disabled")
    if error or not code:
        error = (error or "no_code")[:100]
        sso_failed(
            provider=provider,
            actor=actor,
            reason="provider_error",
            error=error,
            error_description=(error_description or "")[:300],
        )
        raise SsoProviderError(f"The identity provider did not sign you in: {error}")
    try:
        if len(code) > MAX_INPUT:
            raise SsoProviderError("The authorization code is too long")
        token = _tokens(provider, attempt, code)
        claims = id_token_validate(
            provider=provider,
            raw=token.get("id_token"),
            nonce=attempt.nonce,
            access_token=token.get("access_token"),
        )
    except TesseraError as exc:
        sso_failed(provider=provider, actor=actor, reason=exc.code, detail=exc.detail[:300])
        raise
    try:
        with transaction.atomic():
            person = sign_in_apply(provider=provider, claims=claims, actor=actor)
            from_provider = mfa_from_provider(provider, claims)
            amr = (
                [a for a in claims.get("amr", []) if isinstance(a, str)][:10]
                if isinstance(claims.get("amr"), list)
                else []
            )
            if attempt.mode == "cookie" and attempt.return_to:
                success = _complete(
                    person=person, provider=provider, mfa=from_provider, amr=amr, actor=actor
                )
                if isinstance(success, LoginSuccess):
                    return CallbackOutcome(return_to=attempt.return_to, success=success)
                # a second factor is still due: the app finishes through the code exchange
            raw = secrets.token_urlsafe(32)
            now = timezone.now()
            SsoCode.objects.create(
                code_hash=_digest(raw),
                provider=provider,
                user=person.user,
                membership=person.membership,
                mfa_satisfied=from_provider,
                amr=amr,
                created_at=now,
                expires_at=now + CODE_TTL,
            )
    except TesseraError as exc:
        sso_failed(
            provider=provider,
            actor=actor,
            reason=exc.code,
            subject=str(claims.get("sub"))[:255],
        )
        raise
    return CallbackOutcome(return_to=attempt.return_to, code=raw)


def _complete(
    *,
    person: Person,
    provider: IdentityProvider,
    mfa: bool,
    amr: list[str],
    actor: Actor,
) -> LoginSuccess | LoginPending:
    """The session, exactly as after a password: `login_complete`, after the MFA step unless
    the provider's `amr` satisfies the tenant."""
    now = timezone.now()
    attempt = LoginAttempt(
        user=person.user,
        tenant=person.membership.tenant,
        membership=person.membership,
        actor=actor_as(actor, person.user, person.membership),
        password_verified_at=now,
        auth_method=AuthMethod.SSO_MFA if mfa else AuthMethod.SSO,
        mfa_verified_at=now if mfa else None,
        audit_changes={"provider_id": str(provider.pk), "amr": amr, "sso": True},
    )
    if not mfa:
        for step in STEPS:
            pending = step(attempt)
            if pending is not None:
                return pending
    return login_complete(attempt)


def sso_exchange(*, code: str, actor: Actor) -> LoginSuccess | LoginPending:
    """Trade a one-time code for the login answer: once, within 60 seconds (400 otherwise)."""
    if not isinstance(code, str) or not code or len(code) > MAX_INPUT:
        raise SsoCodeInvalid("The code is not valid")
    now = timezone.now()
    with transaction.atomic():
        found = (
            SsoCode.objects.select_related("provider", "provider__tenant", "user", "membership")
            .filter(code_hash=_digest(code))
            .first()
        )
        taken = (
            found is not None
            and found.expires_at > now
            and SsoCode.objects.filter(pk=found.pk, used_at__isnull=True).update(used_at=now) == 1
        )
    if not taken or found is None:
        sso_failed(
            provider=found.provider if found is not None else None,
            actor=actor,
            reason="code_invalid",
        )
        raise SsoCodeInvalid("The code is not valid, was used, or is older than 60 seconds")
    membership = Membership.objects.select_related("tenant", "user").get(pk=found.membership_id)
    usable = membership.is_active and membership.tenant.is_active and membership.user.is_active
    if not usable or not found.provider.enabled:
        sso_failed(provider=found.provider, actor=actor, reason="membership_inactive")
        raise SsoCodeInvalid("The code is not valid, was used, or is older than 60 seconds")
    person = Person(user=membership.user, membership=membership)
    with transaction.atomic():
        return _complete(
            person=person,
            provider=found.provider,
            mfa=found.mfa_satisfied,
            amr=list(found.amr or []),
            actor=actor,
        )


def attempts_cleanup(*, now: datetime | None = None) -> int:
    """Delete expired attempts and codes (each sign-in start does); returns how many."""
    now = now or datetime.now(UTC)
    gone, _ = SsoAttempt.objects.filter(expires_at__lt=now).delete()
    codes, _ = SsoCode.objects.filter(expires_at__lt=now).delete()
    return gone + codes
