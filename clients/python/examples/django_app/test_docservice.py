"""Tests of the Django example with no Tessera running: FakeTessera mints the tokens and answers
the decisions from the permissions each test gives. CsrfViewMiddleware is on, as in production.

    cd clients/python/examples/django_app && pytest test_docservice.py
"""

import pytest
from django.test import Client
from docservice import views


@pytest.fixture
def api(tessera_django):  # tessera_django: the fake installed as the Django helpers' client
    views.DOCUMENTS.clear()
    return Client(enforce_csrf_checks=True)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_an_editor_creates_with_a_bearer_post_and_no_csrf_token(api, tessera_django):
    token = tessera_django.mint("alice", permissions=["document:read", "document:create"])
    created = api.post(
        "/documents", {"title": "Q3 plan"}, content_type="application/json", headers=bearer(token)
    )
    assert created.status_code == 201, created.content
    assert api.get(f"/documents/{created.json()['id']}", headers=bearer(token)).status_code == 200


def test_a_reader_may_not_create(api, tessera_django):
    token = tessera_django.mint("bob", permissions=["document:read"])
    refused = api.post(
        "/documents", {"title": "x"}, content_type="application/json", headers=bearer(token)
    )
    assert refused.status_code == 403
    assert refused["Content-Type"] == "application/problem+json"


def test_no_token_is_401_problem_json(api):
    refused = api.get("/documents")
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"] == 'Bearer realm="tessera"'


def test_the_admin_page_reads_the_role_from_the_token(api, tessera_django):
    assert (
        api.get(
            "/admin/stats", headers=bearer(tessera_django.mint("ann", roles=["admin"]))
        ).status_code
        == 200
    )
    assert (
        api.get("/admin/stats", headers=bearer(tessera_django.mint("bo", roles=[]))).status_code
        == 403
    )


def test_after_logout_decisions_refuse(api, tessera_django):
    token = tessera_django.mint("carol", permissions=["document:read"])
    assert api.get("/documents", headers=bearer(token)).status_code == 200
    tessera_django.logout(token)
    assert api.get("/documents", headers=bearer(token)).status_code == 401
