"""/account/sessions/<id>/revoke/ and /account/devices/<id>/revoke/: ending one of one's
sessions (another one needs a password entered in the last 10 minutes, as in the API) and
no longer trusting a device. Another person's session or device is "not found"."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tessera.authn.devices import device_get_for_user, device_revoke
from tessera.authn.reauthentication import session_end_by_owner
from tessera.authn.selectors import session_get_for_user
from tessera.authn.session_cookie import session_cookie_forget
from tessera.errors import NotFound, TesseraError
from tessera.web.auth import (
    ACCOUNT_PATH,
    SIGNIN_PATH,
    page_actor,
    page_login_required,
    page_visitor,
)
from tessera.web.pages.account import account_refused


@require_POST
@page_login_required
def session_revoke_own(request: HttpRequest, session_id: str) -> HttpResponse:
    visitor = page_visitor(request)
    session = session_get_for_user(user_id=visitor.principal.user_id, session_id=session_id)
    if session is None or session.revoked_at is not None:
        exc = NotFound(_("No such session."))
        messages.error(request, str(exc.detail))
        return account_refused(request, exc)
    try:
        session_end_by_owner(
            session=session,
            current_session_id=visitor.principal.session_id,
            actor=page_actor(request),
        )
    except TesseraError as exc:
        messages.error(request, str(exc.detail))
        return account_refused(request, exc)
    if str(session.pk) == str(visitor.principal.session_id):
        response = HttpResponseRedirect(SIGNIN_PATH)
        session_cookie_forget(response)
        return response
    messages.success(request, _("The session has ended."))
    return HttpResponseRedirect(ACCOUNT_PATH)


@require_POST
@page_login_required
def device_revoke_own(request: HttpRequest, device_id: str) -> HttpResponse:
    visitor = page_visitor(request)
    device = device_get_for_user(user_id=visitor.principal.user_id, device_id=device_id)
    if device is None:
        exc = NotFound(_("No such trusted device."))
        messages.error(request, str(exc.detail))
        return account_refused(request, exc)
    device_revoke(device=device, actor=page_actor(request), tenant_id=visitor.principal.tenant_id)
    messages.success(request, _("That device is no longer trusted."))
    return HttpResponseRedirect(ACCOUNT_PATH)
