"""The README's Django quick start, verbatim, in a fresh `django-admin startproject` (which keeps
CsrfViewMiddleware), against a real Tessera: a Bearer POST reaches the view; refusals are
problem+json, never Django's HTML CSRF page."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tessera_client.testing import find_tessera

pytestmark = pytest.mark.e2e

if find_tessera() is None and os.environ.get("TESSERA_E2E_REQUIRED") == "1":
    os.environ["TESSERA_SERVER_REQUIRED"] = "1"

# What the README tells a developer to add (settings.py, views.py, urls.py).
SETTINGS_ADDITION = """
MIDDLEWARE += ["tessera_client.django.TesseraMiddleware"]   # keep CsrfViewMiddleware
TESSERA_CLIENT = {"BASE_URL": "http://127.0.0.1:8000", "TENANT_IDS": ["<tenant id>"]}
"""
VIEWS = """
from django.http import JsonResponse
from tessera_client.django import permission_required, tenant_role_required


@permission_required("document:create")
def create_document(request):
    return JsonResponse({"created_by": request.principal.user_id}, status=201)


@permission_required("document:read", id_kwarg="doc_id")
def read_document(request, doc_id):
    return JsonResponse({"id": doc_id, "tenant": request.principal.tenant_id})


@tenant_role_required("admin")
async def tenant_settings(request):
    return JsonResponse({"tenant": request.principal.tenant_id})
"""
URLS_ADDITION = """
from mysite import views

urlpatterns += [
    path("documents", views.create_document),
    path("documents/<str:doc_id>", views.read_document),
    path("tenant-settings", views.tenant_settings),
]
"""

# Requests made with Django's test client, as a browser or a service would send them.
PROBE = """
import json, os, sys
import django
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()  # as Django's test runner does: the "testserver" host is allowed

editor, reader = sys.argv[1], sys.argv[2]
browser = Client(enforce_csrf_checks=True)
def bearer(token):
    return {"HTTP_AUTHORIZATION": "Bearer " + token}
def answer(response):
    return [response.status_code, response.get("Content-Type"), response.get("WWW-Authenticate")]
print(json.dumps({
    "create": answer(browser.post("/documents", **bearer(editor))),
    "read": answer(browser.get("/documents/7", **bearer(reader))),
    "reader_create": answer(browser.post("/documents", **bearer(reader))),
    "anonymous": answer(browser.get("/documents/7")),
    "anonymous_post": answer(browser.post("/documents")),
    "garbage": answer(browser.post("/documents", **bearer("garbage"))),
    "not_admin": answer(browser.get("/tenant-settings", **bearer(editor))),
}))
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory, tessera_server) -> Path:
    root = tmp_path_factory.mktemp("startproject")
    subprocess.run(
        [sys.executable, "-m", "django", "startproject", "mysite", str(root)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    settings = root / "mysite" / "settings.py"
    stock = settings.read_text()
    assert "django.middleware.csrf.CsrfViewMiddleware" in stock  # the stock settings keep it
    addition = SETTINGS_ADDITION.replace("http://127.0.0.1:8000", tessera_server.url)
    settings.write_text(stock + addition.replace("<tenant id>", tessera_server.tenant_id))
    (root / "mysite" / "views.py").write_text(textwrap.dedent(VIEWS))
    urls = root / "mysite" / "urls.py"
    urls.write_text(urls.read_text() + URLS_ADDITION)
    return root


def test_the_readme_django_quick_start_in_a_stock_project(project, tessera_server):
    s = tessera_server
    for permission in ("document:read", "document:create"):
        s.create_permission(permission)
    s.create_role("stock-editor", ["document:read", "document:create"])
    s.create_role("stock-reader", ["document:read"])
    s.create_member("stock-editor@acme.test", roles=["stock-editor"])
    s.create_member("stock-reader@acme.test", roles=["stock-reader"])
    editor, reader = s.token("stock-editor@acme.test"), s.token("stock-reader@acme.test")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "mysite.settings"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, editor, reader],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    problem = "application/problem+json"
    assert got["create"][0] == 201, got  # a Bearer POST passes CsrfViewMiddleware
    assert got["read"][0] == 200, got
    assert got["reader_create"][:2] == [403, problem], got
    assert got["anonymous"] == [401, problem, 'Bearer realm="tessera"'], got
    assert got["anonymous_post"][0] == 403, got  # no token: Django's CSRF check applies first
    assert got["garbage"] == [401, problem, 'Bearer realm="tessera", error="invalid_token"'], got
    assert got["not_admin"][:2] == [403, problem], got
