"""What the API accepts on the wire: JSON bodies only, CSRF for every cookie, allowed origins.

- **Content types.** Operations with a JSON body schema parse only `application/json` bodies
  (`JsonOnlyParser`); anything else (`text/plain`, forms, …) answers 415 `unsupported_media_type`.
  A `text/plain` body is what a cross-site HTML form or a "simple" `fetch` can send without a CORS
  preflight, so refusing it closes that CSRF route even before the token check. Endpoints that take
  other bodies on purpose read them themselves (`POST /api/v1/users/bulk`: CSV or multipart).
- **CSRF.** Unsafe API calls authenticated by a cookie need Django's CSRF token (`X-CSRFToken`
  header matching the `csrftoken` cookie): the `tessera_session` cookie is checked where it is
  read (`tessera.authn.request_auth`), and the admin site's session does not authenticate the API
  at all. A test walks every unsafe operation of the OpenAPI document.
- **Origins.** A login that sets the session cookie (`"cookie": true`) must come from an allowed
  origin: one `tessera.origins` lists (`TESSERA_PUBLIC_URL`'s, `TESSERA_CORS_ORIGINS`,
  `TESSERA_CSRF_TRUSTED_ORIGINS`), or the request's own origin. Browsers send `Origin` on every
  cross-origin POST, so a request without `Origin` (nor `Referer`) is a non-browser client and is
  allowed; `Origin: null` (sandboxed frames, `data:` pages) is refused.
"""

from __future__ import annotations

from tessera.api.text_guard import StrictParser
from tessera.errors import PermissionDenied, TesseraError
from tessera.origins import allowed_origins, origin_of

JSON_CONTENT_TYPE = "application/json"


class UnsupportedMediaType(TesseraError):
    status = 415
    code = "unsupported_media_type"
    title = "Unsupported media type"


class OriginNotAllowed(PermissionDenied):
    code = "origin_not_allowed"


def require_json_body(request) -> None:
    """415 unless the request's body is declared `application/json` (charset allowed)."""
    if (request.content_type or "").lower() != JSON_CONTENT_TYPE:
        raise UnsupportedMediaType(
            "Send the body as application/json (Content-Type: application/json)"
        )


class JsonOnlyParser(StrictParser):
    """The API's body parser: `application/json` only (415 otherwise), and only text the
    database can store (`tessera.api.text_guard.StrictParser`, 422)."""

    def parse_body(self, request):
        require_json_body(request)
        return super().parse_body(request)


# --- origins ------------------------------------------------------------------------------------


def _own_origin(request) -> str | None:
    try:
        return f"{request.scheme}://{request.get_host()}".lower()
    except Exception:  # a Host outside ALLOWED_HOSTS: not an origin we vouch for
        return None


def origin_allowed(request) -> bool:
    """Whether a browser request comes from an allowed origin (see the module docstring)."""
    origin = request.META.get("HTTP_ORIGIN")
    if origin is None:
        referer = request.META.get("HTTP_REFERER")
        if not referer:
            return True  # not a browser: nothing to forge
        origin = origin_of(referer)
        if origin is None:
            return False
    origin = origin.strip().lower()
    if origin == "null":
        return False
    return origin in allowed_origins() or origin == _own_origin(request)


def require_allowed_origin(request) -> None:
    if not origin_allowed(request):
        raise OriginNotAllowed(
            "A login that sets the session cookie must come from an allowed origin "
            "(TESSERA_PUBLIC_URL or TESSERA_CORS_ORIGINS)"
        )
