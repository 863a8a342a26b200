"""Pending invitations: the list (keyset pages), mailing a new link, withdrawing one."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tessera.console.pages import console_of, console_page, done, render_page
from tessera.console.paging import newest_first, next_page_query
from tessera.errors import NotFound
from tessera.tenancy.invitations import (
    invitation_get,
    invitation_resend,
    invitation_revoke,
    invitations_pending,
)
from tessera.tenancy.models import Invitation


def _invitation(request: HttpRequest, invitation_id: str) -> Invitation:
    found = invitation_get(tenant=console_of(request).tenant, invitation_id=invitation_id)
    if found is None:
        raise NotFound("No such pending invitation in this tenant")
    return found


@console_page("user:create")
def invitation_index(request: HttpRequest) -> HttpResponse:
    console = console_of(request)
    rows, following = newest_first(
        invitations_pending(tenant=console.tenant), request.GET.get("cursor")
    )
    return render_page(
        request,
        "console/invitations.html",
        {
            "invitations": rows,
            "now": timezone.now(),
            "next_query": next_page_query(request, following),
        },
        section="console:invitations",
    )


@require_POST
@console_page("user:create")
def invitation_resend_view(request: HttpRequest, invitation_id: str) -> HttpResponse:
    console = console_of(request)
    invitation = invitation_resend(
        invitation=_invitation(request, invitation_id), by=console.membership, actor=console.actor
    )
    return done(
        request,
        _("A new link was mailed to %(email)s.") % {"email": invitation.email},
        reverse("console:invitations"),
    )


@require_POST
@console_page("user:create")
def invitation_revoke_view(request: HttpRequest, invitation_id: str) -> HttpResponse:
    console = console_of(request)
    invitation = _invitation(request, invitation_id)
    invitation_revoke(invitation=invitation, actor=console.actor)
    return done(
        request,
        _("The invitation to %(email)s was withdrawn.") % {"email": invitation.email},
        reverse("console:invitations"),
    )
