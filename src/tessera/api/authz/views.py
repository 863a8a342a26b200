"""/api/v1/authz: decisions (check, batch, explain), field sets and access review.

`subject_id` is the global user id; leaving it out (or naming oneself) asks about the caller.
Asking about another member needs `authz:check_others` (checked before the id is looked up, so
without it every other id answers 403); an id that is not a member of the caller's tenant
answers 404. Any syntactically valid action is accepted — one nothing grants is denied — and a
malformed one answers 422.
"""

from __future__ import annotations

import uuid

from ninja import Query, Router

from tessera.access.bridge import decisions
from tessera.access.bridge.decisions import BatchItem, make_resource
from tessera.access.bridge.guard import is_allowed, require_member, requires
from tessera.access.bridge.policy_lookup import caller_versions
from tessera.api.authz.inputs import BatchIn, CheckIn, ContextIn, SubjectsQuery
from tessera.api.authz.outputs import BatchOut, CheckOut, ExplainOut, FieldsOut, SubjectsOut
from tessera.api.pagination import clamp_limit, decode_cursor, encode_cursor
from tessera.api.security import principal_auth
from tessera.engine import Context
from tessera.errors import NotFound, PermissionDenied, ValidationFailed, field_error
from tessera.tenancy.selectors import membership_get, memberships_by_user_id

router = Router(tags=["authz"], auth=principal_auth)


def _same_id(given: str, user_id) -> bool:
    try:
        return uuid.UUID(given) == uuid.UUID(str(user_id))
    except ValueError:
        return False


def _subject(request, subject_id: str | None):
    """(membership, versions, about_self) for the member a decision is about."""
    caller = require_member(request)
    if subject_id is None or _same_id(subject_id, caller.user_id):
        return caller, caller_versions(request), True
    if not is_allowed(request, "authz:check_others"):
        raise PermissionDenied(
            "Asking about another member needs authz:check_others", code="permission_denied"
        )
    membership = membership_get(tenant=request.tenant, user_id=subject_id)
    if membership is None:
        raise NotFound(
            "No such member in this tenant",
            errors=[field_error("subject_id", "Not a member of this tenant.", "not_found")],
        )
    return membership, None, False


def _batch_subjects(request, payload: BatchIn) -> dict[str | None, tuple]:
    """`_subject` of each distinct `subject_id` of a batch, the other members read in one query.
    The refusals are `_subject`'s, for the first check that earns one."""
    caller = require_member(request)
    found: dict[str | None, tuple] = {}
    others: dict[str, int] = {}  # subject id → index of its first check
    for i, item in enumerate(payload.checks):
        key = item.get("subject_id")
        if key in found or key in others:
            continue
        if key is None or _same_id(key, caller.user_id):
            found[key] = (caller, caller_versions(request), True)
        else:
            others[key] = i
    if not others:
        return found
    if not is_allowed(request, "authz:check_others"):
        raise PermissionDenied(
            "Asking about another member needs authz:check_others", code="permission_denied"
        )
    members = memberships_by_user_id(tenant=request.tenant, user_ids=others)
    for key, i in others.items():
        user_id = _uuid_or_none(key)
        membership = members.get(user_id) if user_id is not None else None
        if membership is None:
            raise NotFound(
                "No such member in this tenant",
                errors=[
                    field_error(
                        f"checks[{i}].subject_id", "Not a member of this tenant.", "not_found"
                    )
                ],
            )
        found[key] = (membership, None, False)
    return found


def _uuid_or_none(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def _context(request, supplied: ContextIn | None, about_self: bool) -> Context:
    facts = supplied.as_dict() if supplied is not None else None
    return decisions.supplied_context(request, facts, about_self=about_self)


def _resource(payload: CheckIn):
    return make_resource(payload.resource.model_dump()) if payload.resource else None


@router.post("/check", response=CheckOut, summary="May the subject do the action?")
def check(request, payload: CheckIn):
    subject, versions, about_self = _subject(request, payload.subject_id)
    decision = decisions.check(
        membership=subject,
        action=payload.action,
        resource=_resource(payload),
        context=_context(request, payload.context, about_self),
        versions=versions,
    )
    return {"allowed": decision.allowed}


@router.post("/check/batch", response=BatchOut, summary="Up to 1,000 checks, answered in order")
def check_batch(request, payload: BatchIn):
    subjects = _batch_subjects(request, payload)
    plain_contexts: dict[bool, Context] = {}  # the context of checks that state none, built once
    items = []
    for item, action in zip(payload.checks, payload.actions, strict=True):
        membership, versions, about_self = subjects[item.get("subject_id")]
        supplied = item.get("context")
        if supplied is None:
            if about_self not in plain_contexts:
                plain_contexts[about_self] = _context(request, None, about_self)
            context = plain_contexts[about_self]
        else:
            context = _context(request, supplied, about_self)
        items.append(
            BatchItem(
                membership=membership,
                action=action,
                resource=make_resource(item.get("resource")),
                context=context,
                versions=versions,
            )
        )
    answers = decisions.check_batch(items)
    return {"results": [{"allowed": d.allowed} for d in answers]}


@router.post("/explain", response=ExplainOut, summary="The decision with its reasons")
def explain(request, payload: CheckIn):
    subject, versions, about_self = _subject(request, payload.subject_id)
    decision = decisions.explain(
        membership=subject,
        action=payload.action,
        resource=_resource(payload),
        context=_context(request, payload.context, about_self),
        versions=versions,
    )
    return {**decision.to_json(), "subject_id": str(subject.user_id), "action": payload.action}


@router.get("/fields", response=FieldsOut, summary="Readable and writable fields of a type")
def fields(request, resource_type: str, subject_id: str | None = None):
    subject, versions, about_self = _subject(request, subject_id)
    context = decisions.supplied_context(request, None, about_self=about_self)
    found = decisions.fields(
        membership=subject, resource_type=resource_type, context=context, versions=versions
    )
    return found.to_json()


@router.get("/subjects", response=SubjectsOut, summary="Access review: who may do the action")
@requires("authz:check_others")
def subjects(request, q: Query[SubjectsQuery]):
    limit = clamp_limit(q.limit)
    position = decode_cursor(q.cursor)
    after = None
    if position is not None:
        try:
            after = str(uuid.UUID(str(position.get("after"))))
        except ValueError:
            raise ValidationFailed(
                "Invalid cursor", errors=[field_error("cursor", "Not a cursor this API issued.")]
            ) from None
    if (q.resource_type is None) != (q.resource_id is None):
        raise ValidationFailed(
            "Give resource_type and resource_id together",
            errors=[field_error("resource_id", "Give both or neither.")],
        )
    resource = (
        make_resource({"type": q.resource_type, "id": q.resource_id}) if q.resource_type else None
    )
    page = decisions.subjects_for(
        tenant=request.tenant, action=q.action, resource=resource, limit=limit, after=after
    )
    return {
        "items": [
            {
                "user_id": str(entry.membership.user_id),
                "email": entry.membership.user.email,
                "membership_id": str(entry.membership.pk),
                "department": entry.membership.department,
                "job_title": entry.membership.job_title,
                "conditional": entry.conditional,
                "sources": list(entry.sources),
            }
            for entry in page.items
        ],
        "next_cursor": encode_cursor({"after": page.next_cursor}) if page.next_cursor else None,
    }
