"""What a new sign-in ends, and what needs a recent one (ASVS 5.0 V7.2.4 and V7.5.2).

- A sign-in that sets the session cookie (API login or MFA step with `cookie: true`) while the
  browser still presents a live session cookie ends that session (`SESSION_REVOKED`, reason
  `reauthenticated`) before the new cookie replaces it: a browser never holds two live sessions,
  and a session planted in it earlier dies when its user signs in. (The admin site does the same
  with its own browser session: tessera.admin_login.)
- Ending one of one's *other* sessions (`DELETE /api/v1/auth/sessions/{id}`) needs a password
  entered in the last 10 minutes (`session_require_recent_auth`): a stolen session cannot cut its
  owner's other devices off one by one. Ending the current session, and `logout {all: true}`
  (which ends the caller's own session too), stay open to every session: after a device is stolen
  its owner must be able to end everything from anywhere, and the thief gains nothing by it.
"""

from __future__ import annotations

import uuid

from tessera.audit.services import Actor
from tessera.authn.errors import TokenInvalid
from tessera.authn.models import Session
from tessera.authn.request_auth import cookie_claims
from tessera.authn.sessions import session_require_recent_auth, session_revoke

REPLACED_REASON = "reauthenticated"
OTHER_SESSION_DETAIL = (
    "Ending another session needs a password entered in the last 10 minutes: sign in again "
    "(POST /api/v1/auth/login) and end it from the new session"
)


def session_end_replaced(*, session_id, new_session_id, actor: Actor | None) -> bool:
    """End the live session a sign-in replaces in this browser, unless it is the new session
    itself (a tenant switch keeps its session). False when there was nothing to end."""
    if not session_id or str(session_id) == str(new_session_id):
        return False
    try:
        uuid.UUID(str(session_id))
    except ValueError:
        return False
    session = Session.objects.filter(pk=session_id, revoked_at__isnull=True).first()
    if session is None:
        return False
    return session_revoke(session=session, reason=REPLACED_REASON, actor=actor)


def session_end_replaced_by_cookie(
    *, cookie: str | None, new_session_id, actor: Actor | None
) -> bool:
    """`session_end_replaced` for the signed session cookie a sign-in arrived with (a forged
    cookie names nothing)."""
    if not cookie:
        return False
    try:
        session_id = cookie_claims(cookie)[0]
    except TokenInvalid:
        return False
    return session_end_replaced(session_id=session_id, new_session_id=new_session_id, actor=actor)


def session_end_by_owner(*, session: Session, current_session_id, actor: Actor | None) -> bool:
    """The owner ends one of their sessions: their current one at once, another one only with a
    password entered in the last 10 minutes (403 `reauthentication_required`)."""
    if str(session.pk) != str(current_session_id):
        session_require_recent_auth(session_id=current_session_id, detail=OTHER_SESSION_DETAIL)
    return session_revoke(session=session, reason="revoked_by_user", actor=actor)
