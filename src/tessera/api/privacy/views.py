"""GDPR requests: /api/v1/users/{id}/export and /api/v1/users/{id}/erase.

`{id}` is the person's global user id, addressing their membership in the caller's tenant (another
tenant's user answers 404, like an unknown id). Mounted under the users prefix next to
`tessera.api.users`.

- Export: any active member may export their own data, with no permission; exporting someone
  else's needs `user:export` on that member (checked before the lookup, so a caller without it
  learns nothing about who exists). An API key exports its own member's data only when its
  scopes include `user:read`. The body is JSON, streamed (the audit events in batches).
- Erase: needs `user:delete`; nobody erases themselves here (409 `self_action_forbidden`, as for
  removal), nor the tenant's last active administrator (409 `last_admin`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.http import StreamingHttpResponse
from ninja import Router

from tessera.access.bridge.guard import (
    ScopeMissing,
    authorize,
    require_member,
    requires,
    scopes_allow,
)
from tessera.api.privacy.outputs import ErasureOut
from tessera.api.security import principal_auth
from tessera.api.users.lookup import member_or_404, user_resource
from tessera.audit.actors import actor_from_request
from tessera.audit.export import event_as_dict
from tessera.privacy.erasure import member_erase
from tessera.privacy.export import MemberExport, member_data_export

router = Router(tags=["users"], auth=principal_auth)


EXPORT_PERMISSION = "user:export"


OWN_EXPORT_SCOPE = "user:read"


CHUNK_EVENTS = 200


def _is_self(request, user_id: str) -> bool:
    try:
        return uuid.UUID(str(user_id)) == uuid.UUID(str(request.principal.user_id))
    except ValueError:
        return False


def _authorize_export(request, user_id: str) -> None:
    """Own data: any active member (an API key needs the `user:read` scope); anyone else's:
    `user:export`."""
    require_member(request)
    if not _is_self(request, user_id):
        authorize(request, EXPORT_PERMISSION, user_resource(request, user_id))
    elif not scopes_allow(request.principal.scopes, OWN_EXPORT_SCOPE):
        raise ScopeMissing(f"The API key's scopes do not include {OWN_EXPORT_SCOPE}")


def _json_chunks(export: MemberExport) -> Iterator[str]:
    """The export as one JSON object, its `audit_events` array streamed in chunks."""
    head = json.dumps(export.sections, cls=DjangoJSONEncoder)
    yield head[:-1] + ',"audit_events":['
    batch: list[str] = []
    first = True
    for event in export.events:
        batch.append(json.dumps(event_as_dict(event), cls=DjangoJSONEncoder))
        if len(batch) >= CHUNK_EVENTS:
            yield ("" if first else ",") + ",".join(batch)
            batch, first = [], False
    if batch:
        yield ("" if first else ",") + ",".join(batch)
    yield "]}"


@router.get(
    "/{user_id}/export",
    response={200: dict[str, Any]},
    summary="Export a member's personal data in this tenant (GDPR)",
    description=(
        "The person's profile, membership, roles, overrides, grants, delegations, sessions in "
        "this tenant, API keys' metadata, MFA status and the audit events by or about them. "
        "Own data: any member; someone else's: `user:export`. Never secrets or hashes."
    ),
)
def export_user(request, user_id: str):
    _authorize_export(request, user_id)
    membership = member_or_404(request, user_id)
    export = member_data_export(membership=membership, actor=actor_from_request(request))
    response = StreamingHttpResponse(_json_chunks(export), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="user-{membership.user_id}.json"'
    response["Cache-Control"] = "no-store"
    return response


@router.post(
    "/{user_id}/erase",
    response=ErasureOut,
    summary="Erase a member's personal data in this tenant (GDPR)",
    description=(
        "Revokes every credential, deletes the membership and its access data, redacts the "
        "audit events by or about them (the hash chain still verifies) and, when this was "
        "their only tenant, anonymizes the identity. Irreversible."
    ),
)
@requires("user:delete", resource=user_resource)
def erase_user(request, user_id: str):
    membership = member_or_404(request, user_id)
    summary = member_erase(
        membership=membership, by=request.membership, actor=actor_from_request(request)
    )
    return summary.as_dict()
