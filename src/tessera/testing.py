"""Test support (tests, benchmarks): reset per-process authentication state; sign a test client in.

Above every layer: it may import any of them (the admin site's session key too)."""

from __future__ import annotations

from tessera.admin_login import SESSION_KEY
from tessera.authn.api_key_auth import api_keys_clear_process_state
from tessera.authn.keys import keys_clear_cache
from tessera.authn.lockout import lockout_reset
from tessera.authn.models import AuthMethod
from tessera.authn.sessions import admin_session_policy, session_create, session_tokens_issue
from tessera.authn.tokens import tokens_clear_cache
from tessera.tenancy.models import Membership, MembershipStatus


def authn_reset_process_state() -> None:
    """Forget cached signing/verification keys, verified tokens and in-memory lockout counters.

    (Redis-held counters are cleared with the cache's database by the caller, if it wishes.)
    """

    api_keys_clear_process_state()
    keys_clear_cache()
    tokens_clear_cache()
    lockout_reset()


def api_session_login(client, user, tenant=None):
    """Sign a Django test `client` in to the API as `user` (tests, benchmarks): a Tessera session
    and its access token, sent as `Authorization: Bearer` on the client's every request.

    The session is bound to the user's membership in `tenant` (whatever its status: a suspended
    membership's token is then refused like any other), or, without `tenant`, to the user's only
    active membership — as a password login without `tenant` would be. No password, no MFA step:
    the token stands for a login that already happened. Returns the session.
    """

    if tenant is not None:
        membership = Membership.objects.select_related("tenant").get(user_id=user.pk, tenant=tenant)
    else:
        active = list(
            Membership.objects.select_related("tenant").filter(
                user_id=user.pk, status=MembershipStatus.ACTIVE
            )[:2]
        )
        membership = active[0] if len(active) == 1 else None
    session = session_create(
        user=user,
        tenant=membership.tenant if membership is not None else None,
        membership=membership,
        ip="127.0.0.1",
    )
    tokens = session_tokens_issue(session=session)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {tokens.access_token}"
    return session


def admin_session_login(client, user):
    """Sign a Django test `client` in to the admin site as `user` (tests): the Tessera session an
    admin sign-in creates, bound to the client's browser session. Returns the session."""

    session = session_create(
        user=user,
        tenant=None,
        membership=None,
        ip="127.0.0.1",
        auth_method=AuthMethod.ADMIN,
        policy=admin_session_policy(),
    )
    client.force_login(user)
    browser = client.session
    browser[SESSION_KEY] = str(session.pk)
    browser.save()
    return session
