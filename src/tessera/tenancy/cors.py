"""Which browser origins may read the API's answers (CORS, django-cors-headers).

The deployment's origins (`tessera.origins.allowed_origins`: TESSERA_PUBLIC_URL's,
TESSERA_CORS_ORIGINS, TESSERA_CSRF_TRUSTED_ORIGINS) are `settings.CORS_ALLOWED_ORIGINS`; each
tenant adds its own in `settings.cors.allowed_origins`. `cors_origin_allowed` answers
django-cors-headers' `check_request_enabled` signal for an origin outside the deployment's list,
on API paths only:

- an actual request: the origin must be listed by the tenant the request acts in
  (`request.tenant`, resolved by TenantMiddleware from the credential, `X-Tenant` or the
  subdomain). An anonymous request whose tenant could not be resolved is judged by the tenant it
  names; a request with a credential whose tenant was refused is judged by nothing (no header).
- a preflight (`OPTIONS` with `Access-Control-Request-Method`) carries no credential and no
  header values: the origin passes when the subdomain's tenant lists it, or, without a tenant
  subdomain, when any active tenant lists it. A preflight only lets the browser send the request;
  reading its answer takes the request's own tenant listing the origin.
"""

from __future__ import annotations

from django.core.cache import cache

from tessera.origins import origin_of
from tessera.tenancy.middleware import tenant_hint_from_host
from tessera.tenancy.models import Tenant
from tessera.tenancy.selectors import tenant_find
from tessera.tenancy.tenant_settings import parse_tenant_settings

API_PREFIX = "/api/"
TENANT_ORIGINS_CACHE_KEY = "cors:tenant-origins"
TENANT_ORIGINS_CACHE_SECONDS = 60


def tenant_cors_origins(tenant: Tenant) -> frozenset[str]:
    """The origins a tenant's settings list (validated and normalised when they were saved)."""
    cors = (tenant.settings or {}).get("cors") or {}
    return frozenset(cors.get("allowed_origins") or ())


def origins_listed_by_tenants() -> frozenset[str]:
    """Every origin some active tenant lists (cached a minute; a settings change clears it)."""
    cached = cache.get(TENANT_ORIGINS_CACHE_KEY)
    if cached is not None:
        return frozenset(cached)
    listed: set[str] = set()
    documents = Tenant.objects.filter(
        is_active=True, settings__cors__allowed_origins__isnull=False
    ).values_list("settings", flat=True)
    for document in documents:
        listed.update(parse_tenant_settings(document).cors.allowed_origins)
    cache.set(TENANT_ORIGINS_CACHE_KEY, sorted(listed), TENANT_ORIGINS_CACHE_SECONDS)
    return frozenset(listed)


def forget_tenant_origins() -> None:
    cache.delete(TENANT_ORIGINS_CACHE_KEY)


def _host_tenant(request) -> Tenant | None:
    try:
        host = request.get_host()
    except Exception:  # noqa: BLE001 - a Host outside ALLOWED_HOSTS names no tenant
        return None
    hint = tenant_hint_from_host(host)
    return tenant_find(hint=hint) if hint else None


def _is_preflight(request) -> bool:
    return request.method == "OPTIONS" and "access-control-request-method" in request.headers


def _request_tenant(request) -> Tenant | None:
    tenant = getattr(request, "tenant", None)
    if tenant is not None:
        return tenant
    if getattr(request, "principal", None) is not None:
        return None  # the credential's tenant was refused: no tenant vouches for the origin
    hint = request.headers.get("X-Tenant")
    if hint:
        return tenant_find(hint=hint)
    return _host_tenant(request)


def cors_origin_allowed(sender, request, **kwargs) -> bool:
    """django-cors-headers' `check_request_enabled` receiver (see the module docstring)."""
    if not request.path_info.startswith(API_PREFIX):
        return False
    origin = origin_of(request.headers.get("Origin") or "")
    if origin is None:
        return False
    if _is_preflight(request):
        tenant = _host_tenant(request)
        if tenant is not None:
            return origin in tenant_cors_origins(tenant)
        return origin in origins_listed_by_tenants()
    tenant = _request_tenant(request)
    return tenant is not None and tenant.is_active and origin in tenant_cors_origins(tenant)
