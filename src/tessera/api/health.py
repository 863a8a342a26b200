"""Liveness and readiness probes."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_safe

from tessera.problems import CONTENT_TYPE, problem_body


@require_safe
def healthz(request):
    return JsonResponse({"status": "ok"})


@require_safe
def readyz(request):
    checks: dict[str, str] = {}
    ready = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        checks["database"] = f"error: {type(exc).__name__}"
        ready = False
    if settings.REDIS_URL:
        try:
            cache.set("readyz", "1", 5)
            checks["redis"] = "ok" if cache.get("readyz") == "1" else "error"
            ready = ready and checks["redis"] == "ok"
        except Exception as exc:  # noqa: BLE001
            checks["redis"] = f"error: {type(exc).__name__}"
            ready = False
    if not ready:
        body = problem_body(
            status=503,
            title="Service unavailable",
            detail="A backing service does not answer.",
            code="unavailable",
        )
        return JsonResponse({**body, "checks": checks}, status=503, content_type=CONTENT_TYPE)
    return JsonResponse({"status": "ok", "checks": checks})
