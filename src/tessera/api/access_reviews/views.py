"""/api/v1/access-reviews: access review campaigns, their items, decisions and reports.

Thin transport over `tessera.reviews`. Holders of `access_review:read` see every campaign and
item; any other member sees the campaigns they review and only their own items (404 for a
campaign with none). Only an item's assigned reviewer decides it (403 `not_reviewer`).
"""

from __future__ import annotations

import json
from typing import Any, Literal

from django.http import HttpResponse, StreamingHttpResponse
from ninja import Router, Status

from tessera.access.bridge.guard import is_allowed, require_member, requires
from tessera.api.access_reviews.inputs import DecisionIn, ReviewIn
from tessera.api.access_reviews.outputs import (
    ItemOut,
    ItemPage,
    ReviewCreatedOut,
    ReviewOut,
    ReviewPage,
)
from tessera.api.pagination import clamp_limit, decode_cursor, encode_cursor, newest_first_page
from tessera.api.security import principal_auth
from tessera.audit.actors import actor_from_request
from tessera.errors import NotFound, ValidationFailed, field_error
from tessera.reviews.selectors import (
    access_review_get,
    access_review_list,
    item_as_dict,
    review_as_dict,
    review_item_get,
    review_items,
    review_report_csv,
    review_report_rows,
)
from tessera.reviews.services import access_review_create, access_review_decide
from tessera.tenancy.selectors import membership_get

router = Router(tags=["access reviews"], auth=principal_auth)


def _visible(request, review_id):
    """(campaign, reviewer filter): everything with `access_review:read`, else own items only."""
    member = require_member(request)
    review = access_review_get(tenant=request.tenant, review_id=review_id)
    if is_allowed(request, "access_review:read"):
        return review, None
    if not review_items(review=review, reviewer=member).exists():
        raise NotFound("No such access review")
    return review, member


@router.post("", response={201: ReviewCreatedOut}, summary="Start an access review campaign")
@requires("access_review:create")
def create_review(request, payload: ReviewIn):
    fallback = None
    if payload.fallback_reviewer_id:
        fallback = membership_get(tenant=request.tenant, user_id=payload.fallback_reviewer_id)
        if fallback is None:
            raise ValidationFailed(
                "Unknown reviewer",
                errors=[field_error("fallback_reviewer_id", "No such member.", "not_found")],
            )
    review = access_review_create(
        tenant=request.tenant,
        name=payload.name,
        scope=payload.scope.dict(exclude_none=True),
        due_at=payload.due_at,
        created_by=request.membership,
        fallback_reviewer=fallback,
        actor=actor_from_request(request),
    )
    items = [item_as_dict(i) for i in review_items(review=review)]
    return Status(201, {**review_as_dict(review), "items": items})


@router.get("", response=ReviewPage, summary="The tenant's access review campaigns, newest first")
@requires("access_review:read")
def list_reviews(request, limit: int = 50, cursor: str | None = None):
    rows, following = newest_first_page(
        access_review_list(tenant=request.tenant), cursor=cursor, limit=limit
    )
    return {"items": [review_as_dict(r) for r in rows], "next_cursor": following}


@router.get("/{review_id}", response=ReviewOut, summary="One campaign with its progress")
def get_review(request, review_id: str):
    review, reviewer = _visible(request, review_id)
    return review_as_dict(review, reviewer=reviewer)


@router.get("/{review_id}/items", response=ItemPage, summary="A campaign's items, in order")
def list_items(
    request,
    review_id: str,
    decision: Literal["pending", "keep", "revoke"] | None = None,
    limit: int = 50,
    cursor: str | None = None,
):
    review, reviewer = _visible(request, review_id)
    size = clamp_limit(limit)
    position = decode_cursor(cursor)
    qs = review_items(review=review, reviewer=reviewer, decision=decision)
    if position is not None:
        after = position.get("p")
        if not isinstance(after, int):
            raise ValidationFailed("Invalid cursor", errors=[field_error("cursor", "Malformed.")])
        qs = qs.filter(position__gt=after)
    rows = list(qs[: size + 1])
    following = encode_cursor({"p": rows[size - 1].position}) if len(rows) > size else None
    return {"items": [item_as_dict(i) for i in rows[:size]], "next_cursor": following}


@router.post(
    "/{review_id}/items/{item_id}",
    response=ItemOut,
    summary="Keep or revoke one item (its assigned reviewer only); a revoke applies at once",
)
def decide_item(request, review_id: str, item_id: str, payload: DecisionIn):
    member = require_member(request)
    review = access_review_get(tenant=request.tenant, review_id=review_id)
    item = review_item_get(review=review, item_id=item_id)
    decided = access_review_decide(
        item=item,
        reviewer=member,
        decision=payload.decision,
        note=payload.note or "",
        actor=actor_from_request(request),
    )
    return item_as_dict(decided)


@router.get(
    "/{review_id}/report",
    summary="Who reviewed what, when, with what outcome (CSV or JSON)",
    response={200: dict[str, Any]},
)
@requires("access_review:read")
def report(request, review_id: str, format: Literal["csv", "json"] = "json"):
    review = access_review_get(tenant=request.tenant, review_id=review_id)
    filename = f"access-review-{review.pk}"
    if format == "csv":
        response: HttpResponse | StreamingHttpResponse = StreamingHttpResponse(
            review_report_csv(review), content_type="text/csv"
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
        return response
    body = {**review_as_dict(review), "items": list(review_report_rows(review))}
    response = HttpResponse(
        json.dumps(body, default=str), content_type="application/json", status=200
    )
    response["Content-Disposition"] = f'inline; filename="{filename}.json"'
    return response
