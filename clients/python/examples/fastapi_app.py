"""A tiny document service protected by Tessera (FastAPI).

    pip install -e './clients/python[fastapi]' uvicorn       # from the repository root
    TESSERA_URL=http://127.0.0.1:8000 TESSERA_TENANT_IDS=<tenant id> \
        uvicorn fastapi_app:app --app-dir clients/python/examples --port 8001

Environment:
    TESSERA_URL                  where Tessera is (default http://127.0.0.1:8000)
    TESSERA_TENANT_IDS           comma-separated ids of the tenants this service serves, or
    TESSERA_ANY_TENANT=1         every tenant's tokens (one of the two is required)
    TESSERA_ISSUER               the `iss` of its tokens, when not TESSERA_URL
    TESSERA_AUDIENCE             the `aud` of its tokens (default "tessera")
    TESSERA_DECISION_CACHE_TTL   seconds to cache decisions (default 0: off)
    TESSERA_NOTIFICATIONS_KEY    an API key holding `notification:read` (a service account's):
                                 with the cache on, a subscriber drops cached decisions on every
                                 revocation of the tenant, and the cache serves only while its
                                 stream is connected

Permissions it asks Tessera about: document:read, document:create, document:delete; the
/admin/stats page needs the tenant role "admin" (read from the token). Documents live in memory,
per tenant (`principal.tenant_id`). Its tests, with no Tessera running: `test_fastapi_app.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, HTTPException
from pydantic import BaseModel

from tessera_client import AsyncTesseraClient, Principal, Resource, TesseraError
from tessera_client.fastapi import (
    ProblemException,
    current_principal,
    get_tessera,
    require_any_permission,
    require_permission,
    require_role,
    setup,
)


def make_client() -> AsyncTesseraClient:
    tenants = [t for t in os.environ.get("TESSERA_TENANT_IDS", "").split(",") if t.strip()]
    return AsyncTesseraClient(
        os.environ.get("TESSERA_URL", "http://127.0.0.1:8000"),
        issuer=os.environ.get("TESSERA_ISSUER") or None,
        audience=os.environ.get("TESSERA_AUDIENCE", "tessera"),
        tenant_ids=tenants or None,
        any_tenant=os.environ.get("TESSERA_ANY_TENANT") == "1",
        decision_cache=float(os.environ.get("TESSERA_DECISION_CACHE_TTL", "0")),
    )


tessera = make_client()
subscriber = None  # the notification stream, when TESSERA_NOTIFICATIONS_KEY is set


@asynccontextmanager
async def lifespan(app: FastAPI):
    global subscriber
    listener = None
    key = os.environ.get("TESSERA_NOTIFICATIONS_KEY")
    if key and tessera.cache is not None:
        from tessera_client.realtime import NotificationSubscriber

        subscriber = NotificationSubscriber.for_client(tessera, api_key=key)
        listener = asyncio.create_task(subscriber.run())
    yield
    if listener is not None:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener
    await tessera.aclose()


app = FastAPI(title="Documents (protected by Tessera)", lifespan=lifespan)
setup(app, tessera)

# tenant id -> document id -> document
DOCUMENTS: dict[str, dict[str, dict]] = {}


class NewDocument(BaseModel):
    title: str
    body: str = ""


def _tenant_documents(principal: Principal) -> dict[str, dict]:
    return DOCUMENTS.setdefault(principal.tenant_id or "", {})


@app.get("/health")
async def health():
    """Unprotected; says whether the notification stream is connected, when there is one."""
    if subscriber is None:
        return {"status": "ok"}
    return {"status": "ok", "notifications": subscriber.connected.is_set()}


@app.get("/me")
async def me(principal: Principal = Depends(current_principal)):
    """Who the token says you are (verified locally, no call to Tessera)."""
    return {"user_id": principal.user_id, "tenant_id": principal.tenant_id}


@app.get("/documents")
async def list_documents(principal: Principal = Depends(require_permission("document", "read"))):
    return {"items": list(_tenant_documents(principal).values())}


@app.post("/documents", status_code=201)
async def create_document(
    new: NewDocument, principal: Principal = Depends(require_permission("document", "create"))
):
    doc = {
        "id": uuid.uuid4().hex,
        "title": new.title,
        "body": new.body,
        "owner_id": principal.user_id,
    }
    _tenant_documents(principal)[doc["id"]] = doc
    return doc


@app.get("/documents/{doc_id}")
async def read_document(
    doc_id: str,
    principal: Principal = Depends(require_permission("document", "read", id_param="doc_id")),
):
    doc = _tenant_documents(principal).get(doc_id)
    if doc is None:  # another tenant's document is as absent as a missing one
        raise HTTPException(404, "No such document")
    return doc


@app.delete("/documents/{doc_id}", status_code=204)
async def delete_document(
    doc_id: str,
    principal: Principal = Depends(current_principal),
    client: AsyncTesseraClient = Depends(get_tessera),
):
    """An object-level check: the owner matters for rules scoped to "own"."""
    doc = _tenant_documents(principal).get(doc_id)
    if doc is None:
        raise HTTPException(404, "No such document")
    resource = Resource("document", id=doc_id, owner_id=doc["owner_id"])
    try:
        allowed = await client.check("document:delete", resource, principal=principal)
    except TesseraError as exc:
        raise ProblemException.from_error(exc) from None
    if not allowed:
        raise ProblemException.forbidden("Permission document:delete is required.")
    del _tenant_documents(principal)[doc_id]


@app.get("/documents-or-audit")
async def overview(
    principal: Principal = Depends(require_any_permission(["document:read", "audit_log:read"])),
):
    return {"documents": len(_tenant_documents(principal))}


@app.get("/admin/stats")
async def admin_stats(principal: Principal = Depends(require_role("admin"))):
    return {"tenant_id": principal.tenant_id, "documents": len(_tenant_documents(principal))}
