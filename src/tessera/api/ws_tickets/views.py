"""POST /api/v1/auth/ws-ticket: a short-lived single-use ticket for WS /ws/notifications/.

Asked with an access token or the session cookie (with its CSRF header), the ticket opens the
person's own stream for that session (their sessions, memberships, permissions; tenant
administrators also get `security.alert`), and the socket closes when the session ends.
Asked with an API key holding `notification:read` (a service account's), it opens the
tenant-wide stream of the key's tenant: every member's `session.revoked`, `membership.changed`
and `permissions.changed` there, never another tenant's. The ticket appears in this answer only
(`Cache-Control: no-store`); use it within `expires_in` seconds, once.
"""

from __future__ import annotations

from django.http import HttpResponse
from ninja import Router

from tessera.access.bridge.guard import authorize
from tessera.api.security import principal_auth
from tessera.api.ws_tickets.outputs import WsTicketOut
from tessera.errors import PermissionDenied
from tessera.realtime.tickets import NOTIFICATION_READ, ticket_issue

router = Router(tags=["auth"])


@router.post(
    "/ws-ticket",
    auth=principal_auth,
    response={200: WsTicketOut},
    summary="A single-use ticket to open WS /ws/notifications/?ticket=… (about 30 s)",
    description=(
        "With a session (access token or cookie): the caller's own stream. With an API key "
        "holding `notification:read`: the tenant-wide stream of the key's tenant (403 without "
        "it). Access tokens are never accepted in the WebSocket URL."
    ),
)
def ws_ticket(request, response: HttpResponse):
    principal = request.principal
    if principal.api_key_id is not None:
        authorize(request, NOTIFICATION_READ)
        ticket, ttl = ticket_issue(
            user_id=principal.user_id,
            api_key_id=principal.api_key_id,
            tenant_id=principal.tenant_id,
            membership_id=principal.membership_id,
            tenant_wide=True,
        )
    elif principal.session_id is not None:
        ticket, ttl = ticket_issue(
            user_id=principal.user_id,
            session_id=principal.session_id,
            tenant_id=principal.tenant_id,
            membership_id=principal.membership_id,
        )
    else:
        raise PermissionDenied(
            "A WebSocket ticket needs a session (POST /api/v1/auth/login) or an API key",
            code="session_required",
        )
    response["Cache-Control"] = "no-store"
    return {"ticket": ticket, "expires_in": ttl}
