"""Who is acting, for audit events: `actor_from_request(request) -> Actor`, and the client IP."""

from __future__ import annotations

import ipaddress

from django.conf import settings

from tessera.audit.models import ActorType
from tessera.audit.services import Actor


def _valid_ip(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[::1]:443"
        value = value[1 : value.index("]")]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """REMOTE_ADDR, or with N trusted proxies in front (settings.TRUSTED_PROXY_COUNT) the address
    the outermost of them saw: the N-th entry from the right of X-Forwarded-For. Entries further
    left were written by the client and are never believed."""
    remote = _valid_ip(request.META.get("REMOTE_ADDR"))
    trusted = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if trusted <= 0:
        return remote
    forwarded = [p for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
    if len(forwarded) < trusted:
        return remote
    return _valid_ip(forwarded[-trusted]) or remote


def actor_from_request(request) -> Actor:
    """The caller as an audit Actor (user, membership, API key, IP, user agent, request id)."""
    principal = getattr(request, "principal", None)
    membership_id = None
    if principal is not None and principal.membership_id is not None:
        membership_id = principal.membership_id
    else:
        membership = getattr(request, "membership", None)
        membership_id = membership.pk if membership is not None else None
    if principal is None:  # an anonymous person (a login, a password reset): user unknown yet
        kind, user_id, api_key_id = ActorType.USER, None, None
    elif principal.api_key_id is not None:
        kind, user_id, api_key_id = ActorType.API_KEY, principal.user_id, principal.api_key_id
    else:
        kind, user_id, api_key_id = ActorType.USER, principal.user_id, None
    return Actor(
        type=kind,
        user_id=user_id,
        membership_id=membership_id,
        api_key_id=api_key_id,
        ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:512],
        request_id=getattr(request, "request_id", "") or "",
        impersonator_id=getattr(principal, "impersonator_id", None),
    )
