"""The one mechanism guarding Tessera's own endpoints: `@requires("resource:action")`.

    @router.post("", response={201: UserOut})
    @requires("user:create")
    def create_user(request, payload: UserIn): ...

    @router.patch("/{user_id}")
    @requires("user:update", resource=lambda request, user_id, **_: Resource("user", id=user_id))
    def update_user(request, user_id: str, payload: UserPatch): ...

The decorator goes *below* the router's decorator. It requires an authenticated principal (401),
a tenant and an active membership in it (403), and then asks the engine, with the caller's
compiled policy and the request's context, whether `resource:action` is allowed (403
problem+json on deny). When the principal is an API key (`principal.scopes` is not None) the
key's scopes must cover the action too. Platform administrators get nothing here: only their
membership's roles count. `is_allowed(request, action, resource)` answers a second question in a
view without raising.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from typing import Any

from asgiref.sync import sync_to_async

from tessera.access.bridge.decisions import parse_action, request_context
from tessera.access.bridge.policy import MemberPolicy
from tessera.access.bridge.policy_lookup import caller_versions, policy_for
from tessera.access.catalog import SYSTEM_PERMISSIONS
from tessera.engine import Decision, PolicyError, Resource, decide, permission_covers
from tessera.errors import NotAuthenticated, PermissionDenied, TesseraError
from tessera.identity.password_change import ensure_password_changed

ResourceGetter = Callable[..., Resource | None]


class AccessDenied(PermissionDenied):
    code = "permission_denied"


class NoTenant(PermissionDenied):
    code = "tenant_required"


class ScopeMissing(PermissionDenied):
    code = "api_key_scope"


def scopes_allow(scopes, action: str) -> bool:
    """Whether API-key scopes (None = unrestricted) cover `action`."""
    return scopes is None or any(permission_covers(str(s), action) for s in scopes)


def _caller_policy(request) -> MemberPolicy | None:
    """The caller's compiled policy, looked up once per request."""
    membership = request.membership
    cached = getattr(request, "_tessera_policy", None)
    if cached is not None and cached[0] == membership.pk:
        return cached[1]
    found = policy_for(membership, caller_versions(request))
    request._tessera_policy = (membership.pk, found)
    return found


def _default_resource(action: str) -> Resource:
    return Resource(type=action.split(":", 1)[0])


def decision_for(request, action: str, resource: Resource | None = None) -> Decision | None:
    """The engine's decision for the caller; None when there is no active member to ask about."""
    if getattr(request, "principal", None) is None or getattr(request, "membership", None) is None:
        return None
    compiled = _caller_policy(request)
    if compiled is None:
        return None
    return decide(
        compiled.policy,
        compiled.subject,
        action,
        resource if resource is not None else _default_resource(action),
        request_context(request),
    )


def require_member(request):
    """The caller's active membership; 401 without a principal, 403 without a tenant membership."""
    principal = getattr(request, "principal", None)
    if principal is None:
        raise NotAuthenticated("Authentication required")
    ensure_password_changed(principal)
    membership = getattr(request, "membership", None)
    if membership is None:
        raise NoTenant("Act in a tenant you are an active member of (X-Tenant or a tenant token)")
    return membership


def authorize(request, action: str, resource: Resource | None = None) -> Decision:
    """Raise 401/403 unless the caller may do `action`; return the allowing decision."""
    require_member(request)
    principal = request.principal
    if not scopes_allow(principal.scopes, action):
        raise ScopeMissing(f"The API key's scopes do not include {action}")
    decision = decision_for(request, action, resource)
    if decision is None or not decision.allowed:
        raise AccessDenied(f"You may not {action}")
    return decision


def is_allowed(request, action: str, resource: Resource | None = None) -> bool:
    """Whether the caller may do `action` (never raises; a malformed action is simply False)."""
    try:
        parse_action(action)
        authorize(request, action, resource)
    except (TesseraError, PolicyError):
        return False
    return True


def _resolved_signature(view: Callable) -> inspect.Signature:
    """The view's signature with annotations evaluated in the view's own module, so that ninja
    (which evaluates string annotations in the wrapper's globals) sees the real types."""
    signature = inspect.signature(view)
    try:
        hints = typing.get_type_hints(view, include_extras=True)
    except Exception:
        return signature
    params = [
        p.replace(annotation=hints.get(p.name, p.annotation)) for p in signature.parameters.values()
    ]
    return signature.replace(
        parameters=params, return_annotation=hints.get("return", signature.return_annotation)
    )


def requires(action: str, *, resource: ResourceGetter | None = None) -> Callable:
    """Guard a ninja view: the caller must be allowed `action` (see the module docstring).

    `resource(request, *args, **kwargs)` may build the `Resource` from the view's arguments;
    without it the resource is `Resource(type=<resource part of the action>)`.
    """
    parse_action(action)
    if action not in SYSTEM_PERMISSIONS:
        raise ValueError(f"{action!r} is not one of Tessera's own permissions (catalog.py)")

    def decorator(view: Callable) -> Callable:
        def target(request, args, kwargs) -> Resource | None:
            return resource(request, *args, **kwargs) if resource is not None else None

        if inspect.iscoroutinefunction(view):

            @functools.wraps(view)
            async def async_guarded(request, *args: Any, **kwargs: Any):
                await sync_to_async(authorize)(request, action, target(request, args, kwargs))
                return await view(request, *args, **kwargs)

            guarded: Callable = async_guarded
        else:

            @functools.wraps(view)
            def guarded(request, *args: Any, **kwargs: Any):
                authorize(request, action, target(request, args, kwargs))
                return view(request, *args, **kwargs)

        guarded.__signature__ = _resolved_signature(view)  # type: ignore[attr-defined]
        guarded.required_permission = action  # type: ignore[attr-defined]
        return guarded

    return decorator
