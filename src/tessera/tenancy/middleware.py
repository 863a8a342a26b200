"""Resolves the tenant of a request and proves the caller's active membership in it.

The tenant comes from the credential (an access token's `tid`, an API key's membership), else
from the `X-Tenant: <slug>` header, else from a subdomain of TESSERA_BASE_DOMAIN. Unknown tenant
→ 404; a caller without an active membership → 403. Views read `request.tenant` and
`request.membership` (both None when the request names no tenant).
"""

from __future__ import annotations

from django.conf import settings

from tessera.errors import TesseraError
from tessera.problems import problem_response
from tessera.tenancy.resolution import resolve_tenant


def tenant_hint_from_host(host: str) -> str | None:
    base = settings.BASE_DOMAIN
    if not base:
        return None
    host = host.split(":", 1)[0].lower()
    if host.endswith("." + base):
        label = host[: -len(base) - 1]
        if label and "." not in label and label != "www":
            return label
    return None


class TenantMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.tenant = None
        request.membership = None
        if request.path_info.startswith("/scim/"):  # the SCIM token names the tenant
            return self.get_response(request)
        hint = request.headers.get("X-Tenant") or tenant_hint_from_host(request.get_host())
        principal = getattr(request, "principal", None)
        if principal is not None or hint:
            try:
                request.tenant, request.membership = resolve_tenant(principal=principal, hint=hint)
            except TesseraError as exc:
                return problem_response(request, exc)
        return self.get_response(request)
