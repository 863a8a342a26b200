"""What an administrator does to one member: suspend, reactivate, give and take roles, end
sessions, reset the second factor, set the membership's attributes, remove the membership.
POST only (CSRF-checked); each calls the service the API calls, which applies the escalation
rule, and answers with the member's page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tessera.administration.members import (
    member_deactivate,
    member_reactivate,
    member_remove,
    member_role_unassign,
    member_roles_assign,
    member_update,
)
from tessera.authn.member_security import member_mfa_reset, member_session_end, member_sessions_end
from tessera.console.forms import MemberAttributesForm
from tessera.console.pages import console_of, console_page, done
from tessera.console.views.members import member_or_404, member_resource
from tessera.errors import ValidationFailed, field_error


def _page(user_id: str) -> str:
    return reverse("console:member", args=[user_id])


@require_POST
@console_page("user:deactivate", resource=member_resource)
def member_suspend(request: HttpRequest, user_id: str) -> HttpResponse:
    console = console_of(request)
    target = member_or_404(request, user_id)
    member_deactivate(membership=target, by=console.membership, actor=console.actor)
    return done(request, _("Membership suspended; its sessions ended."), _page(user_id))


@require_POST
@console_page("user:deactivate", resource=member_resource)
def member_unsuspend(request: HttpRequest, user_id: str) -> HttpResponse:
    console = console_of(request)
    target = member_or_404(request, user_id)
    member_reactivate(membership=target, by=console.membership, actor=console.actor)
    return done(request, _("Membership active again."), _page(user_id))


@require_POST
@console_page("role:assign", resource=member_resource)
def member_role_give(request: HttpRequest, user_id: str) -> HttpResponse:
    console = console_of(request)
    target = member_or_404(request, user_id)
    slugs = [s for s in request.POST.getlist("role") if s]
    if not slugs:
        raise ValidationFailed("Choose a role", errors=[field_error("role", "Choose a role.")])
    given = member_roles_assign(
        membership=target, slugs=slugs, by=console.membership, actor=console.actor
    )
    return done(request, _("Role given: %(roles)s.") % {"roles": ", ".join(given)}, _page(user_id))


@require_POST
@console_page("role:assign", resource=member_resource)
def member_role_take(request: HttpRequest, user_id: str, slug: str) -> HttpResponse:
    console = console_of(request)
    target = member_or_404(request, user_id)
    member_role_unassign(membership=target, slug=slug, by=console.membership, actor=console.actor)
    return done(request, _("Role removed: %(role)s.") % {"role": slug}, _page(user_id))


@require_POST
@console_page("session:revoke", resource=member_resource)
def member_session_revoke(request: HttpRequest, user_id: str, session_id: str) -> HttpResponse:
    console = console_of(request)
    target = member_or_404(request, user_id)
    member_session_end(
        membership=target, session_id=session_id, by=console.membership, actor=console.actor
    )
    return done(request, _("Session ended."), _page(user_id))


@require_POST
@console_page("session:revoke", resource=member_resource)
def member_sessions_revoke(request: HttpRequest, user_id: str) -> HttpResponse:
    console = console_of(request)
    target = member_or_404(request, user_id)
    ended = member_sessions_end(membership=target, by=console.membership, actor=console.actor)
    return done(request, _("%(count)d session(s) ended.") % {"count": ended}, _page(user_id))


@require_POST
@console_page("user:update", resource=member_resource)
def member_mfa_clear(request: HttpRequest, user_id: str) -> HttpResponse:
    console = console_of(request)
    target = member_or_404(request, user_id)
    member_mfa_reset(membership=target, by=console.membership, actor=console.actor)
    return done(
        request,
        _("Second factor removed; the person sets up a new one at their next sign-in."),
        _page(user_id),
    )


@require_POST
@console_page("user:delete", resource=member_resource)
def member_drop(request: HttpRequest, user_id: str) -> HttpResponse:
    console = console_of(request)
    target = member_or_404(request, user_id)
    email = target.user.email
    member_remove(membership=target, by=console.membership, actor=console.actor)
    return done(
        request,
        _("%(email)s is no longer a member; their sessions here ended.") % {"email": email},
        reverse("console:members"),
    )


@require_POST
@console_page("user:update", resource=member_resource)
def member_attributes(request: HttpRequest, user_id: str) -> HttpResponse:
    console = console_of(request)
    target = member_or_404(request, user_id)
    form = MemberAttributesForm(request.POST)
    if not form.is_valid():
        raise ValidationFailed(
            "Invalid attributes",
            errors=[
                field_error(name, " ".join(str(m) for m in messages))
                for name, messages in form.errors.items()
            ],
        )
    member_update(
        membership=target, changes=form.changes(), by=console.membership, actor=console.actor
    )
    return done(request, _("Membership attributes saved."), _page(user_id))
