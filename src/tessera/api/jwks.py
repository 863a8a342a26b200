"""GET /.well-known/jwks.json: the public keys that verify Tessera's access tokens."""

from __future__ import annotations

from django.http import JsonResponse
from django.views.decorators.http import require_safe

from tessera.authn.keys import jwks as current_jwks

CACHE_SECONDS = 300


@require_safe
def jwks(request):
    """The JWK Set of the current and previous signing keys (RFC 7517), cacheable for 5 minutes.

    A verifier meeting an unknown `kid` should fetch it again: the key was rotated.
    """
    response = JsonResponse(current_jwks(), content_type="application/jwk-set+json")
    response["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    return response
