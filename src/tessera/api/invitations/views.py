"""/api/v1/invitations: the caller's tenant's pending invitations (`user:create`).

Accepting one is `POST /api/v1/auth/invitations/accept` (tessera.api.account), by the person.
"""

from __future__ import annotations

from ninja import Router, Status

from tessera.access.bridge.guard import requires
from tessera.api.invitations.outputs import InvitationOut, InvitationPage
from tessera.api.pagination import newest_first_page
from tessera.api.security import principal_auth
from tessera.audit.actors import actor_from_request
from tessera.errors import NotFound
from tessera.tenancy.invitations import (
    invitation_as_dict,
    invitation_get,
    invitation_resend,
    invitation_revoke,
    invitations_pending,
)

router = Router(tags=["invitations"], auth=principal_auth)


def _invitation(request, invitation_id: str):
    invitation = invitation_get(tenant=request.tenant, invitation_id=invitation_id)
    if invitation is None:
        raise NotFound("No such pending invitation in this tenant")
    return invitation


@router.get("", response=InvitationPage, summary="Pending invitations of the caller's tenant")
@requires("user:create")
def list_invitations(request, limit: int = 50, cursor: str | None = None):
    rows, following = newest_first_page(
        invitations_pending(tenant=request.tenant), cursor=cursor, limit=limit
    )
    return {"items": [invitation_as_dict(i) for i in rows], "next_cursor": following}


@router.post(
    "/{invitation_id}/resend",
    response=InvitationOut,
    summary="Mail a new link (the previous one stops working; the expiry starts again)",
)
@requires("user:create")
def resend_invitation(request, invitation_id: str):
    invitation = invitation_resend(
        invitation=_invitation(request, invitation_id),
        by=request.membership,
        actor=actor_from_request(request),
    )
    return invitation_as_dict(invitation)


@router.delete(
    "/{invitation_id}",
    response={204: None},
    summary="Withdraw the invitation (an invited membership is removed with it)",
)
@requires("user:create")
def revoke_invitation(request, invitation_id: str):
    invitation_revoke(
        invitation=_invitation(request, invitation_id), actor=actor_from_request(request)
    )
    return Status(204, None)
