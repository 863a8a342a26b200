"""A URLconf for the guard's tests: a small ninja API whose views are guarded by `@requires`."""

from __future__ import annotations

from django.urls import path
from ninja import NinjaAPI, Schema

from tessera.access.bridge.guard import is_allowed, requires
from tessera.engine import Resource
from tessera.errors import TesseraError
from tessera.problems import problem_response
from tessera.urls import urlpatterns as real

api = NinjaAPI(urls_namespace="guard-test", docs_url=None, openapi_url=None)


@api.exception_handler(TesseraError)
def _tessera_error(request, exc):
    return problem_response(request, exc)


class UserIn(Schema):
    email: str


@api.post("/users")
@requires("user:create")
def create_user(request, payload: UserIn):
    return {"created": payload.email, "may_delete": is_allowed(request, "user:delete")}


@api.get("/users/{user_id}")
@requires("user:update", resource=lambda request, user_id, **_: Resource("user", owner_id=user_id))
def update_user(request, user_id: str):
    return {"updated": user_id}


@api.get("/async-roles")
@requires("role:read")
async def read_roles(request):
    return {"ok": True}


urlpatterns = [path("guarded/", api.urls), *real]
