"""Moving a session to another tenant of its person, under that tenant's policy.

    tenant_switch(session, tenant)
      ├─ not an active member there ─────────────→ NotAMember (403)
      ├─ the tenant's policy asks for a code ─────→ LoginPending {mfa_required, mfa_token}
      │    (the person has MFA and this session did not pass it, or passed it only through a
      │     trusted device the tenant forbids; `mfa/verify` signs in to that tenant)
      └─ otherwise the session moves (new tokens); limited to MFA setup when the tenant requires
         MFA the person has not set up

See docs/decisions/0009-one-tenant-per-session.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from tessera.audit.services import Actor
from tessera.authn.errors import SessionEnded
from tessera.authn.flows.login import LoginPending
from tessera.authn.flows.mfa_session import session_apply_mfa_policy, switch_challenge
from tessera.authn.models import Session
from tessera.authn.sessions import IssuedTokens
from tessera.authn.tenant_switch import session_switch_tenant, switch_target


@dataclass(frozen=True, slots=True)
class SwitchDone:
    tokens: IssuedTokens
    mfa_setup_required: bool


def tenant_switch(
    *, session_id, user, tenant_hint: str, actor: Actor | None = None
) -> SwitchDone | LoginPending:
    tenant, membership = switch_target(user=user, hint=tenant_hint)
    session = Session.objects.filter(
        pk=session_id, user_id=user.pk, revoked_at__isnull=True
    ).first()
    if session is None:
        raise SessionEnded("The session has ended; sign in again")
    pending = switch_challenge(
        session=session, tenant=tenant, membership=membership, actor=actor or Actor.system()
    )
    if pending is not None:
        return pending
    tokens = session_switch_tenant(
        session_id=session_id, user=user, tenant_hint=tenant_hint, actor=actor
    )
    limited = session_apply_mfa_policy(
        session=tokens.session, membership=tokens.session.membership, tenant=tokens.session.tenant
    )
    return SwitchDone(
        tokens=tokens, mfa_setup_required=limited or tokens.session.mfa_setup_required
    )
