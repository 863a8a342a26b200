"""How every console page runs.

`@console_page("user:read")` wraps a view: the person is signed in (`tessera.web.auth`, anonymous
→ `/signin/?next=…`), acts as an active member of their session's tenant, holds at least one of
the administrative permissions that open the console, and is allowed the page's own permission by
the same guard as the API (`tessera.access.bridge.guard`). The services the views call apply the
escalation rule themselves. Whatever a service refuses becomes a page with the error's status
(403, 404, 409, 422 …), never a 500; refused writes change nothing.

`request.console` carries the tenant, the acting membership and `can`: which of Tessera's own
permissions the caller holds (keys with `_` for `:`, e.g. `can.user_create`), so templates offer
only what the caller may do.
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tessera.access.bridge.guard import AccessDenied, authorize, is_allowed, require_member
from tessera.access.catalog import SYSTEM_PERMISSIONS
from tessera.audit.services import Actor
from tessera.engine import Resource
from tessera.errors import NotFound, PermissionDenied, RateLimited, TesseraError
from tessera.tenancy.models import Membership, Tenant
from tessera.web.auth import page_actor, page_login_required

# Holding any of these makes someone an administrator or a manager of the tenant: the console
# opens for them. Plain members and viewers (who only read) get a 403 page.
ADMINISTRATIVE = (
    "user:create",
    "user:update",
    "user:deactivate",
    "role:assign",
    "role:update",
    "tenant:update",
    "session:revoke",
    "grant:create",
    "delegation:approve",
    "audit_log:read",
)

# (url name, permission that shows it, label) — the console's navigation.
SECTIONS = (
    ("console:members", "user:read", gettext_lazy("Members")),
    ("console:invitations", "user:create", gettext_lazy("Invitations")),
    ("console:roles", "role:read", gettext_lazy("Roles")),
    ("console:delegations", "delegation:read", gettext_lazy("Delegations")),
    ("console:grants", "grant:read", gettext_lazy("Grants")),
    ("console:settings", "tenant:read", gettext_lazy("Settings")),
    ("console:audit", "audit_log:read", gettext_lazy("Audit trail")),
)


class ConsoleClosed(PermissionDenied):
    code = "console_not_allowed"


@dataclass(slots=True)
class Console:
    """What a console page knows about its caller."""

    tenant: Tenant
    membership: Membership
    actor: Actor
    can: dict[str, bool] = field(default_factory=dict)
    sections: list[tuple[str, Any]] = field(default_factory=list)


def _console_for(request: HttpRequest) -> Console:
    if getattr(request, "membership", None) is None:  # a session bound to no tenant
        raise ConsoleClosed(_("Sign in to the tenant you administer to open its console."))
    membership: Membership = require_member(request)
    can = {p.replace(":", "_"): is_allowed(request, p) for p in SYSTEM_PERMISSIONS}
    if not any(can[p.replace(":", "_")] for p in ADMINISTRATIVE):
        raise ConsoleClosed(_("The console is for the tenant's administrators and managers."))
    sections = [(name, label) for name, perm, label in SECTIONS if can[perm.replace(":", "_")]]
    return Console(
        tenant=request.tenant,  # type: ignore[attr-defined]
        membership=membership,
        actor=page_actor(request),
        can=can,
        sections=sections,
    )


def render_page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    section: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render a console page: the visitor for the site header, `section` for the menu."""
    return render(
        request,
        template,
        {"visitor": getattr(request, "visitor", None), "section": section, **(context or {})},
        status=status,
    )


def refusal(request: HttpRequest, exc: TesseraError) -> HttpResponse:
    """A page saying what was refused and why, with the error's status."""
    status = exc.status if 400 <= exc.status < 500 else 400
    if isinstance(exc, NotFound):
        detail = _("There is no such thing in this tenant.")
    else:
        detail = exc.detail
    response = render_page(
        request,
        "console/refused.html",
        {"status": status, "code": exc.code, "detail": detail, "errors": exc.errors or []},
        status=status,
    )
    if isinstance(exc, RateLimited):
        response["Retry-After"] = str(exc.retry_after)
    return response


def console_page(
    action: str | None = None, *, resource: Callable[..., Resource | None] | None = None
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """Guard a console view (see the module docstring)."""

    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @functools.wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                request.console = _console_for(request)  # type: ignore[attr-defined]
                if action is not None:
                    target = resource(request, *args, **kwargs) if resource else None
                    authorize(request, action, target)
                # a streamed export is an HttpResponseBase; page_login_required passes it on
                return typing.cast(HttpResponse, view(request, *args, **kwargs))
            except TesseraError as exc:
                return refusal(request, exc)

        signed_in: Callable[..., HttpResponseBase] = page_login_required(guarded)
        signed_in.required_permission = action  # type: ignore[attr-defined]
        return signed_in

    return decorator


def console_of(request: HttpRequest) -> Console:
    """The `Console` that `console_page` attached to the request."""
    return typing.cast(Console, request.console)  # type: ignore[attr-defined]


def done(request: HttpRequest, message: str, to: str) -> HttpResponse:
    """After a successful action: a message, and 303 to the page that shows its result."""
    messages.success(request, message)
    response = HttpResponseRedirect(to)
    response.status_code = 303
    return response


__all__ = [
    "ADMINISTRATIVE",
    "AccessDenied",
    "Console",
    "console_of",
    "console_page",
    "done",
    "render_page",
    "refusal",
]
