"""FastAPI dependencies: who is calling, and may they.

    from fastapi import Depends, FastAPI
    from tessera_client import AsyncTesseraClient
    from tessera_client.fastapi import current_principal, require_permission, require_role, setup

    app = FastAPI()
    setup(app, AsyncTesseraClient("https://iam.example.com", tenant_ids=["<tenant id>"]))

    @app.get("/documents/{doc_id}")
    async def read(doc_id: str, who=Depends(require_permission("document", "read"))): ...

`current_principal` verifies the Bearer token locally (no request to Tessera once the JWKS is
cached). `require_permission` and `require_any_permission` verify it the same way first — a bad
token is refused without asking Tessera — and then ask Tessera with the caller's own token, so a
revoked session or permission is refused on the next request (or, with the decision cache on,
within its TTL). `require_role` reads the token's `roles` claim (as fresh as the token), or asks
Tessera with `live=True`. Refusals are problem+json: 401, 403, or 503 when Tessera cannot be
asked (never an allow).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ._problems import CONTENT_TYPE, Problem, forbidden, problem_for, unauthenticated
from .client import AsyncTesseraClient
from .errors import TesseraError
from .models import Check, Principal, Resource

__all__ = [
    "ProblemException",
    "current_principal",
    "get_tessera",
    "require_any_permission",
    "require_permission",
    "require_role",
    "setup",
]

_bearer = HTTPBearer(auto_error=False, description="A Tessera access token")

ContextFactory = Callable[[Request], Mapping[str, Any] | Awaitable[Mapping[str, Any]]]


class ProblemException(HTTPException):
    """A refusal; `setup` installs the handler that renders it as problem+json."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.status, problem.detail, headers=problem.headers or None)
        self.problem = problem

    @classmethod
    def from_error(cls, exc: TesseraError) -> ProblemException:
        """The refusal for an SDK error (401, 403, 503, or 500): for checks made in a handler."""
        return cls(problem_for(exc))

    @classmethod
    def forbidden(cls, detail: str = "You are not allowed to do this.") -> ProblemException:
        return cls(forbidden(detail))


async def _problem_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemException)
    return JSONResponse(
        exc.problem.body(request.url.path),
        status_code=exc.problem.status,
        headers=exc.problem.headers,
        media_type=CONTENT_TYPE,
    )


def setup(app: FastAPI, client: AsyncTesseraClient) -> None:
    """Attach `client` to `app` and render the helpers' refusals as problem+json.

    Close the client on shutdown (`await client.aclose()` in the app's lifespan).
    """
    if not isinstance(client, AsyncTesseraClient):
        raise TypeError("FastAPI helpers need an AsyncTesseraClient")
    app.state.tessera = client
    app.add_exception_handler(ProblemException, _problem_handler)


async def get_tessera(request: Request) -> AsyncTesseraClient:
    """The client `setup` attached (a dependency; override it in tests if you like)."""
    client = getattr(request.app.state, "tessera", None)
    if client is None:
        raise RuntimeError("call tessera_client.fastapi.setup(app, client) first")
    return client


async def current_principal(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
    client: AsyncTesseraClient = Depends(get_tessera),
) -> Principal:
    """The caller, from a locally verified Bearer access token; 401 otherwise."""
    cached = getattr(request.state, "tessera_principal", None)
    if isinstance(cached, Principal):
        return cached
    if credentials is None:
        raise ProblemException(unauthenticated())
    try:
        principal = await client.verify_token(credentials.credentials)
    except TesseraError as exc:
        raise ProblemException(problem_for(exc)) from None
    request.state.tessera_principal = principal
    return principal


async def _context(factory: ContextFactory | None, request: Request) -> Mapping[str, Any] | None:
    if factory is None:
        return None
    value = factory(request)
    if isinstance(value, Awaitable):
        value = await value
    return value


def require_permission(
    resource: str,
    action: str | None = None,
    *,
    id_param: str | None = None,
    context: ContextFactory | None = None,
) -> Callable[..., Awaitable[Principal]]:
    """A dependency that lets the request through only if Tessera allows `resource:action`.

    `require_permission("document", "read")` or `require_permission("document:read")`.
    `id_param` names a path parameter holding the resource id (object-level grants, scopes);
    `context(request)` may add decision context (IP, MFA state, ...). Returns the principal.
    """
    if action is None:
        resource, _, action = resource.partition(":")
    if not resource or not action:
        raise ValueError("require_permission needs a resource type and an action")
    permission = f"{resource}:{action}"

    async def dependency(
        request: Request,
        principal: Principal = Depends(current_principal),
        client: AsyncTesseraClient = Depends(get_tessera),
    ) -> Principal:
        object_id = request.path_params.get(id_param) if id_param else None
        try:
            decision = await client.check(
                permission,
                Resource(resource, id=object_id),
                principal=principal,
                context=await _context(context, request),
            )
        except TesseraError as exc:
            raise ProblemException(problem_for(exc)) from None
        if not decision.allowed:
            raise ProblemException(forbidden(f"Permission {permission} is required."))
        return principal

    dependency.__name__ = f"require_permission_{resource}_{action}".replace("*", "any")
    return dependency


def require_any_permission(
    permissions: Iterable[str | tuple[str, str]],
    *,
    context: ContextFactory | None = None,
) -> Callable[..., Awaitable[Principal]]:
    """A dependency that needs at least one of `permissions` ("resource:action" or pairs).

    Asked in one batch request.
    """
    wanted: list[tuple[str, str]] = []
    for item in permissions:
        resource, action = item if isinstance(item, tuple) else item.partition(":")[::2]
        if not resource or not action:
            raise ValueError(f"not a resource:action permission: {item!r}")
        wanted.append((resource, action))
    if not wanted:
        raise ValueError("require_any_permission needs at least one permission")
    listed = ", ".join(f"{r}:{a}" for r, a in wanted)

    async def dependency(
        request: Request,
        principal: Principal = Depends(current_principal),
        client: AsyncTesseraClient = Depends(get_tessera),
    ) -> Principal:
        ctx = await _context(context, request)
        checks = [Check(f"{r}:{a}", Resource(r), ctx) for r, a in wanted]
        try:
            decisions = await client.check_batch(checks, principal=principal)
        except TesseraError as exc:
            raise ProblemException(problem_for(exc)) from None
        if not any(d.allowed for d in decisions):
            raise ProblemException(forbidden(f"One of these permissions is required: {listed}."))
        return principal

    dependency.__name__ = "require_any_permission"
    return dependency


def require_role(*roles: str, live: bool = False) -> Callable[..., Awaitable[Principal]]:
    """A dependency that needs the caller to hold one of `roles` (slugs) in the token's tenant.

    By default the roles are read from the token's `roles` claim: no request to Tessera, and as
    fresh as the token (a role removed shows when the token is refreshed, at most its lifetime —
    15 minutes by default — later; a logged-out token passes until it expires). `live=True` asks
    Tessera (`GET /auth/me`, one round trip) with the caller's token instead, which also refuses a
    revoked session at once; so does a token without the claim. Prefer permissions for
    authorization; roles suit coarse gates such as an admin area.
    """
    if not roles or not all(isinstance(r, str) and r for r in roles):
        raise ValueError("require_role needs at least one role slug")
    listed = ", ".join(roles)

    async def dependency(
        principal: Principal = Depends(current_principal),
        client: AsyncTesseraClient = Depends(get_tessera),
    ) -> Principal:
        if principal.tenant_id is None:
            raise ProblemException(forbidden("A tenant role is required; select a tenant."))
        if live or principal.roles is None:
            try:
                me = await client.me(principal=principal)
            except TesseraError as exc:
                raise ProblemException(problem_for(exc)) from None
            if me.tenant_id != principal.tenant_id:
                raise ProblemException(forbidden("A tenant role is required; select a tenant."))
            held = me.has_role(*roles)
        else:
            held = principal.has_role(*roles)
        if not held:
            raise ProblemException(forbidden(f"One of these roles is required: {listed}."))
        return principal

    dependency.__name__ = "require_role_" + "_".join(roles) + ("_live" if live else "")
    return dependency
