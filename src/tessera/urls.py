"""URL map: the API, the admin, JWKS and the probes."""

from django.contrib import admin
from django.urls import path

from tessera.api import health, jwks
from tessera.api.app import api
from tessera.api.problems import internal_error_response, problem

urlpatterns = [
    path("healthz", health.healthz),
    path("readyz", health.readyz),
    path(".well-known/jwks.json", jwks.jwks),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
]


def handler404(request, exception=None):
    return problem(
        request, status=404, title="Not found", detail="No such resource.", code="not_found"
    )


def handler500(request):
    return internal_error_response(request, RuntimeError("unhandled error"))
