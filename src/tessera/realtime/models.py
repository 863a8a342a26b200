"""Single-use tickets that open WS /ws/notifications/ (the access token never travels in a URL)."""

from __future__ import annotations

import uuid

from django.db import models


class WebSocketTicket(models.Model):
    """Asked with POST /api/v1/auth/ws-ticket, redeemed once by `?ticket=` within seconds.

    Only the SHA-256 of the ticket is stored. It is bound to what asked for it: a session (the
    socket then lives as long as that session) or an API key (then `tenant_wide`: the tenant's
    stream, for keys holding `notification:read`), and to that credential's tenant and membership.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    ticket_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey("identity.User", on_delete=models.CASCADE, related_name="+")
    session = models.ForeignKey(
        "authn.Session", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    api_key = models.ForeignKey(
        "authn.ApiKey", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    tenant = models.ForeignKey(
        "tenancy.Tenant", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    membership = models.ForeignKey(
        "tenancy.Membership", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    tenant_wide = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(session__isnull=False) | models.Q(api_key__isnull=False),
                name="ws_ticket_has_a_credential",
            )
        ]
