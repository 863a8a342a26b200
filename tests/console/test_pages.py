"""Who may open the console and what each page shows them."""

from __future__ import annotations

import pytest

from tests.console.conftest import sign_in

pytestmark = pytest.mark.django_db


def test_an_anonymous_visitor_is_sent_to_sign_in_and_back(client):
    answer = client.get("/console/members/?q=ada")
    assert answer.status_code == 302
    assert answer["Location"] == "/signin/?next=%2Fconsole%2Fmembers%2F%3Fq%3Dada"


@pytest.mark.parametrize("who", ["viewer", "member"])
def test_people_who_only_read_are_refused_the_console(client, acme, who):
    sign_in(client, acme[who])
    answer = client.get("/console/")
    assert answer.status_code == 403
    assert "administrators and managers" in answer.content.decode()
    assert client.get("/console/members/").status_code == 403


def test_every_console_page_opens_for_an_administrator(as_admin, acme):
    pages = [
        "/console/",
        "/console/members/",
        "/console/members/invite/",
        f"/console/members/{acme['member'].user_id}/",
        "/console/invitations/",
        "/console/roles/",
        "/console/delegations/",
        "/console/grants/",
        "/console/settings/",
        "/console/audit/",
    ]
    for path in pages:
        answer = as_admin.get(path)
        assert answer.status_code == 200, path
        assert "frame-ancestors 'none'" in answer["Content-Security-Policy"], path
        assert answer["Cache-Control"] == "no-store", path


def test_the_menu_offers_a_manager_only_the_sections_they_may_open(as_manager):
    html = as_manager.get("/console/").content.decode()
    for offered in ("/console/members/", "/console/invitations/", "/console/roles/"):
        assert f'href="{offered}"' in html
    assert 'href="/console/audit/"' in html  # managers read the audit trail
    settings = as_manager.get("/console/settings/").content.decode()
    assert "Save settings" not in settings  # tenant:read, not tenant:update: read-only
    audit = as_manager.get("/console/audit/").content.decode()
    assert "Export CSV" not in audit  # no audit_log:export


def test_the_administrator_sees_the_role_matrix_with_inherited_permissions(as_admin, acme):
    from tessera.access.selectors import role_get
    from tessera.access.services.roles import role_create

    role_create(
        tenant=acme["tenant"],
        slug="auditor",
        name="Auditor",
        parents=["viewer"],
        rules=[{"effect": "allow", "permission": "audit_log:read", "scope": "all"}],
    )
    assert role_get(tenant=acme["tenant"], slug="auditor")
    html = as_admin.get("/console/roles/").content.decode()
    assert "Permission matrix: roles × permissions" in html
    # the auditor's own rule, the rule it inherits from viewer, and admin's wildcard
    assert html.count('data-state="inherited"') >= 4  # tenant/user/role/permission:read
    assert "from viewer" in html
    assert "via *:*" in html


def test_a_session_bound_to_no_tenant_is_asked_to_sign_in_to_one(client, acme, globex):
    from tessera.authn.flows.login import login_password
    from tessera.authn.request_auth import SESSION_COOKIE, session_cookie_value
    from tests.factories import DEFAULT_PASSWORD, make_member

    person = acme["admin"].user
    make_member(globex["tenant"], user=person, roles=["viewer"])
    outcome = login_password(email=person.email, password=DEFAULT_PASSWORD, purpose="web")
    session = outcome.session
    assert session.tenant_id is None  # two memberships, no tenant named
    client.cookies[SESSION_COOKIE] = session_cookie_value(
        session_id=session.pk,
        user_id=session.user_id,
        tenant_id=session.tenant_id,
        membership_id=session.membership_id,
    )
    answer = client.get("/console/")
    assert answer.status_code == 403
    assert "Sign in to the tenant you administer" in answer.content.decode()


def test_every_form_that_posts_carries_the_csrf_token(as_admin, acme):
    import re

    from tessera.authn.models import Session

    member = acme["member"]
    sign_in(type(as_admin)(), member)  # a session of theirs, so that its "end" form is drawn
    assert Session.objects.filter(user=member.user, revoked_at__isnull=True).exists()
    checked = 0
    for path in (
        f"/console/members/{member.user_id}/",
        "/console/members/invite/",
        "/console/grants/",
        "/console/settings/",
        "/console/audit/",
    ):
        html = as_admin.get(path).content.decode()
        forms = re.findall(r"<form[^>]*method=\"post\".*?</form>", html, re.S)
        assert forms, path
        for form in forms:
            assert 'name="csrfmiddlewaretoken"' in form, (path, form[:120])
        checked += len(forms)
    assert checked >= 12
