"""Members: the list (search, filters, keyset pages), one member's page, and inviting someone."""

from __future__ import annotations

import typing

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from tessera.access.selectors import effective_permissions_of, role_list
from tessera.administration.member_selectors import MemberCursor, member_get, member_list
from tessera.administration.members import member_create
from tessera.authn.member_security import member_sessions
from tessera.console.forms import InviteForm, MemberAttributesForm, MemberFilterForm, errors_onto
from tessera.console.offers import member_offers, roles_giveable
from tessera.console.pages import console_of, console_page, done, render_page
from tessera.console.paging import PAGE_SIZE, cursor_dump, cursor_load, next_page_query
from tessera.engine import Resource
from tessera.errors import NotFound, ValidationFailed
from tessera.tenancy.invitations import invitations_pending
from tessera.tenancy.models import Membership, MembershipStatus


def member_resource(request: HttpRequest, user_id: str, **_: object) -> Resource:
    """The member as the guard sees it: `own` scopes match the person themselves, `department`
    scopes their unit (an unknown id is a bare resource; the view then answers 404)."""
    found = _member(request, user_id)
    department = found.department if found is not None else None
    return Resource(
        type="user", id=str(user_id), owner_id=str(user_id), department=department or None
    )


def _member(request: HttpRequest, user_id: str) -> Membership | None:
    """The member, looked up once per request (the guard's resource, then the view)."""
    cached = getattr(request, "_console_member", None)
    if cached is not None and str(cached.user_id) == str(user_id):
        return typing.cast(Membership, cached)
    found: Membership | None = member_get(tenant=console_of(request).tenant, user_id=user_id)
    request._console_member = found  # type: ignore[attr-defined]
    return found


def member_or_404(request: HttpRequest, user_id: str) -> Membership:
    """A member of the caller's tenant by user id; 404 for anyone else's or an unknown id."""
    membership = _member(request, user_id)
    if membership is None:
        raise NotFound("No such member in this tenant")
    return membership


@console_page("user:read")
def member_index(request: HttpRequest) -> HttpResponse:
    console = console_of(request)
    slugs = list(role_list(tenant=console.tenant).values_list("slug", flat=True))
    form = MemberFilterForm(request.GET or None, role_slugs=slugs)
    filters = form.cleaned_data if form.is_valid() else {}
    position = cursor_load(request.GET.get("cursor"))
    cursor = MemberCursor.from_dict(position) if position is not None else None
    page = member_list(
        tenant=console.tenant,
        q=filters.get("q") or None,
        role=filters.get("role") or None,
        status=filters.get("status") or None,
        department=filters.get("department") or None,
        cursor=cursor,
        limit=PAGE_SIZE,
    )
    following = cursor_dump(page.next_cursor.as_dict()) if page.next_cursor else None
    return render_page(
        request,
        "console/members.html",
        {
            "form": form,
            "members": page.items,
            "next_query": next_page_query(request, following),
            "invited": MembershipStatus.INVITED,
        },
        section="console:members",
    )


@console_page("user:read", resource=member_resource)
def member_detail(request: HttpRequest, user_id: str) -> HttpResponse:
    console = console_of(request)
    target = member_or_404(request, user_id)
    offers = member_offers(console, target)
    invitation = None
    if console.can["user_create"]:
        invitation = invitations_pending(tenant=console.tenant).filter(membership=target).first()
    sessions = []
    if offers.read_sessions and offers.within:
        sessions = member_sessions(membership=target, by=console.membership, limit=PAGE_SIZE)
    return render_page(
        request,
        "console/member.html",
        {
            "member": target,
            "offers": offers,
            "sessions": sessions,
            "permissions": effective_permissions_of(membership=target),
            "consented": target.status != MembershipStatus.INVITED,
            "invitation": invitation,
            "attributes": MemberAttributesForm(
                initial={
                    "department": target.department,
                    "job_title": target.job_title,
                    "cost_center": target.cost_center,
                    "employee_id": target.employee_id or "",
                    "clearance_level": target.clearance_level,
                }
            ),
        },
        section="console:members",
    )


@console_page("user:create")
def member_invite(request: HttpRequest) -> HttpResponse:
    console = console_of(request)
    choices = [(r.slug, f"{r.name} ({r.slug})") for r in roles_giveable(console)]
    form = InviteForm(request.POST or None, role_choices=choices)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                created = member_create(
                    tenant=console.tenant,
                    data=form.member_data(),
                    by=console.membership,
                    actor=console.actor,
                )
            except ValidationFailed as exc:
                errors_onto(form, exc.errors, exc.detail)
            else:
                email = created.membership.user.email
                message = (
                    _("Invitation sent to %(email)s.") if created.invited else _("%(email)s added.")
                )
                to = reverse("console:member", args=[created.membership.user_id])
                return done(request, message % {"email": email}, to)
        status = 422
    return render_page(
        request, "console/invite.html", {"form": form}, section="console:members", status=status
    )
