"""Views: sync and async alike, each protected by one decorator.

Permissions asked of Tessera: document:read, document:create, document:delete; /admin/stats needs
the tenant role "admin". Documents live in memory, per tenant.
"""

import json
import threading
import uuid

from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_http_methods

from tessera_client import Resource, TesseraError
from tessera_client.django import (
    error_response,
    forbidden_response,
    get_client,
    permission_required,
    principal_required,
    tenant_role_required,
)

_lock = threading.Lock()
DOCUMENTS: dict[str, dict[str, dict]] = {}  # tenant id -> document id -> document


def _documents(request) -> dict[str, dict]:
    with _lock:
        return DOCUMENTS.setdefault(request.principal.tenant_id or "", {})


def _problem(status: int, detail: str) -> JsonResponse:
    body = {"type": "about:blank", "title": detail, "status": status, "detail": detail}
    return JsonResponse(body, status=status, content_type="application/problem+json")


def health(request):
    """Unprotected."""
    return JsonResponse({"status": "ok"})


@principal_required
async def me(request):
    """Who the token says you are (verified locally by the middleware)."""
    return JsonResponse(
        {"user_id": request.principal.user_id, "tenant_id": request.principal.tenant_id}
    )


@permission_required("document:read")
def _list(request):
    return JsonResponse({"items": list(_documents(request).values())})


@permission_required("document:create")
def _create(request):
    try:
        data = json.loads(request.body or b"{}")
        title = str(data["title"])
    except (ValueError, KeyError, TypeError):
        return _problem(422, "A JSON body with a title is required.")
    doc = {
        "id": uuid.uuid4().hex,
        "title": title,
        "body": str(data.get("body", "")),
        "owner_id": request.principal.user_id,
    }
    _documents(request)[doc["id"]] = doc
    return JsonResponse(doc, status=201)


@require_http_methods(["GET", "POST"])
def documents(request):
    return _create(request) if request.method == "POST" else _list(request)


@permission_required("document:read", id_kwarg="doc_id")
async def _read(request, doc_id):
    doc = _documents(request).get(doc_id)
    if doc is None:  # another tenant's document is as absent as a missing one
        return _problem(404, "No such document.")
    return JsonResponse(doc)


@principal_required
def _delete(request, doc_id):
    """An object-level check made in the view: the owner matters for rules scoped to "own"."""
    doc = _documents(request).get(doc_id)
    if doc is None:
        return _problem(404, "No such document.")
    resource = Resource("document", id=doc_id, owner_id=doc["owner_id"])
    try:
        allowed = get_client().check("document:delete", resource, principal=request.principal)
    except TesseraError as exc:
        return error_response(request, exc)
    if not allowed:
        return forbidden_response(request, "Permission document:delete is required.")
    _documents(request).pop(doc_id, None)
    return HttpResponse(status=204)


@require_http_methods(["GET", "DELETE"])
async def document(request, doc_id):
    if request.method == "DELETE":
        from asgiref.sync import sync_to_async

        return await sync_to_async(_delete)(request, doc_id)
    return await _read(request, doc_id)


@tenant_role_required("admin")
async def admin_stats(request):
    return JsonResponse(
        {"tenant_id": request.principal.tenant_id, "documents": len(_documents(request))}
    )
