"""GET /metrics: the Prometheus exposition of every series, for a scraper that may read it.

Who may read: a request with `Authorization: Bearer <TESSERA_METRICS_TOKEN>`, or from an address
in `TESSERA_METRICS_ALLOW` (CIDRs; behind proxies the address `client_ip` believes). With neither
setting the endpoint does not exist (404): metrics tell a lot about a deployment, so they are
closed until an operator opens them. A wrong or missing token answers 401, an address outside the
allowlist 403 (both problem+json).

The values: merged from every worker's files in multiprocess mode (`tessera.metrics`), else this
process's; plus `tessera_active_sessions`, counted in the database at scrape time.
"""

from __future__ import annotations

import hmac
import ipaddress
import os

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from tessera import metrics
from tessera.authn.selectors import sessions_live_count
from tessera.problems import problem
from tessera.request_facts import client_ip

BEARER = "bearer "


class LiveSessionsCollector:
    """`tessera_active_sessions`: live sessions in the database, counted when scraped."""

    def collect(self):
        yield GaugeMetricFamily(
            "tessera_active_sessions",
            "Sessions not revoked and not expired (counted in the database at scrape time).",
            value=sessions_live_count(now=timezone.now()),
        )


def _token_matches(request) -> bool:
    expected = settings.METRICS_TOKEN
    header = request.headers.get("Authorization") or ""
    if not expected or not header.lower().startswith(BEARER):
        return False
    given = header[len(BEARER) :].strip()
    return hmac.compare_digest(given.encode(), expected.encode())


def _address_allowed(request) -> bool:
    ip = client_ip(request)
    if ip is None:
        return False
    address = ipaddress.ip_address(ip)
    return any(address in network for network in settings.METRICS_ALLOW)


def _refusal(request):
    """None when the request may read the metrics, else the problem answer."""
    if not settings.METRICS_TOKEN and not settings.METRICS_ALLOW:
        return problem(
            request, status=404, title="Not found", detail="No such resource.", code="not_found"
        )
    if _token_matches(request) or _address_allowed(request):
        return None
    if settings.METRICS_TOKEN:
        return problem(
            request,
            status=401,
            title="Not authenticated",
            detail="Reading the metrics needs the metrics bearer token.",
            code="not_authenticated",
            headers={"WWW-Authenticate": 'Bearer realm="tessera-metrics"'},
        )
    return problem(
        request,
        status=403,
        title="Forbidden",
        detail="This address may not read the metrics.",
        code="permission_denied",
    )


def exposition() -> bytes:
    """The text of every series: the workers' values and the scrape-time ones."""
    directory = os.environ.get(metrics.MULTIPROC_ENV)
    if metrics.MULTIPROCESS and directory:
        merged = CollectorRegistry()
        MultiProcessCollector(merged, path=directory)
        text = generate_latest(merged)
    else:
        text = generate_latest(REGISTRY)
    scraped = CollectorRegistry()
    scraped.register(LiveSessionsCollector())
    return text + generate_latest(scraped)


@require_safe
def metrics_view(request):
    refusal = _refusal(request)
    if refusal is not None:
        return refusal
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
