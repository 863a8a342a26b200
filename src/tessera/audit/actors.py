"""Who is acting, for audit events: `actor_from_request(request) -> Actor`."""

from __future__ import annotations

from django.http import HttpRequest

from tessera.audit.models import ActorType
from tessera.audit.services import Actor
from tessera.request_facts import client_ip


def actor_from_request(request: HttpRequest) -> Actor:
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
