"""A URLconf for tests: a view that shows what tenant resolution left on the request."""

from django.http import JsonResponse
from django.urls import include, path

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


urlpatterns = [path("t/whoami", whoami), path("t/boom", boom), path("", include(real))]
