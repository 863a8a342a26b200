"""URL map: the API (and its Swagger UI and ReDoc pages), SCIM, the admin, the pages for people
(tessera.web), the tenant administration console (tessera.console), JWKS, the probes and
the Prometheus metrics."""

import sys

from django.contrib import admin
from django.urls import include, path
from ninja.openapi.docs import Redoc

from tessera.api import health, jwks, metrics_scrape
from tessera.api.app import api
from tessera.problems import internal_error_response, problem

urlpatterns = [
    path("healthz", health.healthz),
    path("readyz", health.readyz),
    path("metrics", metrics_scrape.metrics_view),
    path(".well-known/jwks.json", jwks.jwks),
    path("api/redoc", lambda request: Redoc().render_page(request, api), name="redoc"),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
    path("scim/v2/", include("tessera.api.scim.urls")),
    path("console/", include("tessera.console.urls")),
    path("", include("tessera.web.urls")),
]


def handler404(request, exception=None):
    return problem(
        request, status=404, title="Not found", detail="No such resource.", code="not_found"
    )


def handler500(request):
    # Django calls this inside its `except` block: the error being handled is the current one
    return internal_error_response(request, sys.exc_info()[1] or RuntimeError("unhandled error"))
