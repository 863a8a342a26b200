"""/signout/: end the browser's Tessera session (LOGOUT in the trail) and forget its cookie."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_http_methods

from tessera.audit.models import AuditEventType
from tessera.authn.selectors import session_get_for_user
from tessera.authn.session_cookie import session_cookie_forget
from tessera.authn.sessions import session_revoke
from tessera.web.auth import SIGNIN_PATH, page_actor, visitor_of


@require_http_methods(["GET", "POST"])
def signout(request: HttpRequest) -> HttpResponse:
    """POST signs out (a GET, which a link or a prefetch could send, only goes to the sign-in)."""
    response = HttpResponseRedirect(SIGNIN_PATH)
    if request.method != "POST":
        return response
    visitor = visitor_of(request)
    if visitor is not None:
        request.principal = visitor.principal  # type: ignore[attr-defined]
        session = session_get_for_user(
            user_id=visitor.principal.user_id, session_id=visitor.principal.session_id
        )
        if session is not None:
            session_revoke(
                session=session,
                reason="logout",
                actor=page_actor(request),
                audit_type=AuditEventType.LOGOUT,
            )
    session_cookie_forget(response)
    request.session.flush()
    return response
