"""/api/v1/qualifications (the tenant's catalog) and /api/v1/users/{id}/qualifications (records).

Reading: the catalog needs `qualification:read`; a member reads their own records with no
permission, anyone else's with `qualification:read` on that member. Writing: catalog entries need
`qualification:create`; recording and revoking a member's qualification need
`qualification:verify` (the caller is recorded as verifier and may not be the holder: 403
`self_verification`). `{id}` is the person's global user id (another tenant's: 404).
"""

from __future__ import annotations

import uuid

from django.utils import timezone
from ninja import Router, Status

from tessera.access.bridge.guard import authorize, require_member, requires
from tessera.administration.member_selectors import member_get
from tessera.api.pagination import newest_first_page
from tessera.api.qualifications.inputs import (
    QualificationRecordIn,
    QualificationRevokeIn,
    QualificationTypeIn,
)
from tessera.api.qualifications.outputs import (
    QualificationRecordOut,
    QualificationRecordPage,
    QualificationTypeOut,
    QualificationTypePage,
    record_as_dict,
    type_as_dict,
)
from tessera.api.security import principal_auth
from tessera.api.users.lookup import user_resource
from tessera.audit.actors import actor_from_request
from tessera.errors import NotFound
from tessera.qualifications.selectors import (
    qualification_record_get,
    qualification_record_list,
    qualification_type_list,
)
from tessera.qualifications.services import (
    RecordInput,
    TypeInput,
    qualification_record_create,
    qualification_record_revoke,
    qualification_type_create,
)
from tessera.tenancy.models import Membership

catalog_router = Router(tags=["qualifications"], auth=principal_auth)


records_router = Router(tags=["qualifications"], auth=principal_auth)


def _holder(request, user_id: str) -> Membership:
    found = member_get(tenant=request.tenant, user_id=user_id)
    if found is None:
        raise NotFound("No such user in this tenant")
    return found


def _is_self(request, user_id: str) -> bool:
    try:
        return uuid.UUID(str(user_id)) == uuid.UUID(str(request.principal.user_id))
    except ValueError:
        return False


@catalog_router.get(
    "", response=QualificationTypePage, summary="The tenant's qualification types, newest first"
)
@requires("qualification:read")
def list_types(request, limit: int = 50, cursor: str | None = None):
    rows, following = newest_first_page(
        qualification_type_list(tenant=request.tenant), cursor=cursor, limit=limit
    )
    return {"items": [type_as_dict(t) for t in rows], "next_cursor": following}


@catalog_router.post(
    "",
    response={201: QualificationTypeOut},
    summary="Add a qualification type (code, name, kind, validity in days) to the catalog",
)
@requires("qualification:create")
def create_type(request, payload: QualificationTypeIn):
    entry = qualification_type_create(
        tenant=request.tenant,
        data=TypeInput(payload.code, payload.name, payload.kind, payload.validity_days),
        actor=actor_from_request(request),
    )
    return Status(201, type_as_dict(entry))


@records_router.get(
    "/{user_id}/qualifications",
    response=QualificationRecordPage,
    summary="A member's qualification records (revoked ones included), newest first",
    description="Own records: any member; someone else's: `qualification:read`.",
)
def list_records(request, user_id: str, limit: int = 50, cursor: str | None = None):
    require_member(request)
    if not _is_self(request, user_id):
        authorize(request, "qualification:read", user_resource(request, user_id))
    holder = _holder(request, user_id)
    rows, following = newest_first_page(
        qualification_record_list(membership=holder), cursor=cursor, limit=limit
    )
    now = timezone.now()
    return {"items": [record_as_dict(r, now) for r in rows], "next_cursor": following}


@records_router.post(
    "/{user_id}/qualifications",
    response={201: QualificationRecordOut},
    summary="Record a member's qualification; the caller is the verifier",
    description=(
        "`type` is a catalog code; `level` 1-5; `valid_until` defaults to valid_from + the "
        "type's validity_days. The holder cannot verify their own (403 self_verification)."
    ),
)
@requires("qualification:verify", resource=user_resource)
def create_record(request, user_id: str, payload: QualificationRecordIn):
    holder = _holder(request, user_id)
    record = qualification_record_create(
        holder=holder,
        verifier=request.membership,
        data=RecordInput(
            payload.type, payload.level, payload.valid_from, payload.valid_until, payload.evidence
        ),
        actor=actor_from_request(request),
    )
    found = qualification_record_get(membership=holder, record_id=record.pk)
    return Status(201, record_as_dict(found))


@records_router.post(
    "/{user_id}/qualifications/{record_id}/revoke",
    response=QualificationRecordOut,
    summary="Revoke a member's qualification at once",
)
@requires("qualification:verify", resource=user_resource)
def revoke_record(
    request, user_id: str, record_id: str, payload: QualificationRevokeIn | None = None
):
    holder = _holder(request, user_id)
    record = qualification_record_get(membership=holder, record_id=record_id)
    qualification_record_revoke(
        record=record,
        by=request.membership,
        reason=payload.reason if payload is not None else "",
        actor=actor_from_request(request),
    )
    return record_as_dict(qualification_record_get(membership=holder, record_id=record.pk))
