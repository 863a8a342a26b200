"""A URLconf for tests: a view that shows what tenant resolution left on the request."""

from django.db import OperationalError
from django.http import JsonResponse
from django.urls import include, path

from tessera.urls import handler500  # noqa: F401 - Django looks it up in the URLconf
from tessera.urls import urlpatterns as real


def whoami(request):
    return JsonResponse(
        {
            "tenant": request.tenant.slug if request.tenant else None,
            "membership": str(request.membership.pk) if request.membership else None,
        }
    )


def boom(request):
    raise RuntimeError("secret internals /etc/passwd")


def database_down(request):
    raise OperationalError('connection to server at "127.0.0.1", port 5432 failed: refused')


urlpatterns = [
    path("t/whoami", whoami),
    path("t/boom", boom),
    path("t/database-down", database_down),
    path("", include(real)),
]
