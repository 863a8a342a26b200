"""The /scim/v2 endpoints: discovery, Users and Groups (RFC 7644 §3–4)."""

from __future__ import annotations

from typing import Any, TypedDict

from django.http import HttpRequest, HttpResponse
from pydantic import ValidationError
from scim2_models import Context, Resource, ResponseParameters, SCIMException

from tessera.api.scim.transport import (
    ScimRequest,
    json_body,
    location_base,
    scim_json,
    scim_view,
)
from tessera.audit.services import Actor
from tessera.scim.errors import (
    ScimInvalidFilter,
    ScimInvalidValue,
    ScimNotFound,
)
from tessera.scim.groups import (
    GROUP_ATTRIBUTES,
    group_body,
    scim_group_create,
    scim_group_delete,
    scim_group_get,
    scim_group_patch,
    scim_group_replace,
    scim_groups,
)
from tessera.scim.listing import page_of, paging
from tessera.scim.lookup import scim_user_lookup
from tessera.scim.messages import resource_read
from tessera.scim.resources import (
    CONFIG,
    GROUP_URN,
    LIST_URN,
    PROVIDER,
    USER_URN,
    ScimGroupModel,
    ScimUserModel,
)
from tessera.scim.user_resource import record_body, user_body
from tessera.scim.users import (
    USER_ATTRIBUTES,
    scim_user_create,
    scim_user_delete,
    scim_user_get,
    scim_user_patch,
    scim_user_replace,
    scim_users,
)

QUERY = Context.RESOURCE_QUERY_RESPONSE


def _query(request: HttpRequest) -> dict[str, Any]:
    """A list's parameters: the query string of a GET, or the SearchRequest of a POST .search."""
    if request.method == "GET":
        return {k: request.GET.get(k) for k in _QUERY_KEYS}
    body = json_body(request)
    found = {k: body.get(k) for k in _QUERY_KEYS}
    for key in ("attributes", "excludedAttributes"):
        value = found[key]
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            found[key] = ",".join(value)
        elif value is not None and not isinstance(value, str):
            raise ScimInvalidValue(f"{key} is a list of attribute names")
    for key in ("startIndex", "count"):
        if found[key] is not None:
            found[key] = str(found[key])
    if found["filter"] is not None and not isinstance(found["filter"], str):
        raise ScimInvalidFilter("filter is a string")
    return found


class _Write(TypedDict):
    """What every change of a user or group takes from the request."""

    actor: Actor
    location_base: str
    if_match: str | None


def _write(request: ScimRequest, base: str) -> _Write:
    return {
        "actor": request.scim_actor,
        "location_base": base,
        "if_match": request.headers.get("If-Match"),
    }


_QUERY_KEYS = ("filter", "startIndex", "count", "attributes", "excludedAttributes")


def _parameters(
    query: dict[str, Any], model: type[Resource[Any]]
) -> ResponseParameters[Any] | None:
    attributes = query.get("attributes")
    excluded = query.get("excludedAttributes")
    if not attributes and not excluded:
        return None
    try:
        # parametrised at run time with the endpoint's model (pydantic resolves the paths against
        # it); mypy reads a subscript as a type, which a variable cannot be
        return ResponseParameters[model].model_validate(  # type: ignore[valid-type]
            {"attributes": attributes or None, "excludedAttributes": excluded or None}
        )
    except (SCIMException, ValidationError, ValueError) as exc:
        raise ScimInvalidValue(f"Invalid attributes or excludedAttributes: {exc}") from None


def _shaped(
    body: dict[str, Any], model: type[Resource[Any]], parameters: ResponseParameters[Any] | None
) -> dict[str, Any]:
    if parameters is None:
        return body
    return model.model_validate(body).model_dump(scim_ctx=QUERY, response_parameters=parameters)


def _resource(body: dict[str, Any], *, status: int = 200, created: bool = False):
    headers = {"ETag": body["meta"]["version"]}
    if created:
        headers["Location"] = body["meta"]["location"]
    return scim_json(body, status=status, headers=headers)


# --- discovery ----------------------------------------------------------------------------------


def _with_meta(body: dict[str, Any], kind: str, location: str) -> dict[str, Any]:
    return {**body, "meta": {"resourceType": kind, "location": location}}


def _list(resources: list[dict[str, Any]], *, total: int | None = None, start: int = 1):
    return scim_json(
        {
            "schemas": [LIST_URN],
            "totalResults": len(resources) if total is None else total,
            "startIndex": start,
            "itemsPerPage": len(resources),
            "Resources": resources,
        }
    )


@scim_view({"GET"})
def service_provider_config(request: HttpRequest) -> HttpResponse:
    body = CONFIG.model_dump(scim_ctx=QUERY)
    base = location_base(request)
    return scim_json(_with_meta(body, "ServiceProviderConfig", f"{base}/ServiceProviderConfig"))


def _resource_types(request: HttpRequest) -> list[dict[str, Any]]:
    base = location_base(request)
    return [
        _with_meta(rt.model_dump(scim_ctx=QUERY), "ResourceType", f"{base}/ResourceTypes/{rt.id}")
        for rt in PROVIDER.resource_types
    ]


def _schemas(request: HttpRequest) -> list[dict[str, Any]]:
    base = location_base(request)
    return [
        _with_meta(s.model_dump(scim_ctx=QUERY), "Schema", f"{base}/Schemas/{s.id}")
        for s in PROVIDER.schemas
    ]


@scim_view({"GET"})
def resource_types(request: HttpRequest, name: str | None = None) -> HttpResponse:
    found = _resource_types(request)
    if name is None:
        return _list(found)
    for item in found:
        if item["id"] == name:
            return scim_json(item)
    raise ScimNotFound(f"No resource type {name!r}")


@scim_view({"GET"})
def schemas(request: HttpRequest, urn: str | None = None) -> HttpResponse:
    found = _schemas(request)
    if urn is None:
        return _list(found)
    for item in found:
        if item["id"] == urn:
            return scim_json(item)
    raise ScimNotFound(f"No schema {urn!r}")


# --- users --------------------------------------------------------------------------------------


def _user_page(request: ScimRequest, query: dict[str, Any], *, start: int, count: int):
    return page_of(
        scim_users(tenant=request.tenant),
        filter_text=query.get("filter"),
        model=ScimUserModel,
        attributes=USER_ATTRIBUTES,
        core_urn=USER_URN,
        start_index=start,
        count=count,
    )


def _group_page(request: ScimRequest, query: dict[str, Any], *, start: int, count: int):
    return page_of(
        scim_groups(tenant=request.tenant),
        filter_text=query.get("filter"),
        model=ScimGroupModel,
        attributes=GROUP_ATTRIBUTES,
        core_urn=GROUP_URN,
        start_index=start,
        count=count,
    )


def _list_users(request: ScimRequest) -> HttpResponse:
    query = _query(request)
    parameters = _parameters(query, ScimUserModel)
    start, count = paging(query.get("startIndex"), query.get("count"))
    base = location_base(request)
    found = (
        scim_user_lookup(tenant_id=request.tenant.pk, filter_text=query["filter"])
        if query.get("filter") and start == 1 and count
        else None
    )
    if found is not None:  # the directory's lookup before a create: at most one, all on page 1
        records = [
            _shaped(record_body(r, location_base=base), ScimUserModel, parameters) for r in found
        ]
        return _list(records, total=len(records), start=start)
    page = _user_page(request, query, start=start, count=count)
    items = [_shaped(_user(m, base), ScimUserModel, parameters) for m in page.items]
    return _list(items, total=page.total, start=page.start_index)


def _list_groups(request: ScimRequest) -> HttpResponse:
    query = _query(request)
    parameters = _parameters(query, ScimGroupModel)
    start, count = paging(query.get("startIndex"), query.get("count"))
    page = _group_page(request, query, start=start, count=count)
    base = location_base(request)
    items = [
        _shaped(group_body(g, location_base=base), ScimGroupModel, parameters) for g in page.items
    ]
    return _list(items, total=page.total, start=page.start_index)


@scim_view({"GET", "POST"})
def users(request: ScimRequest) -> HttpResponse:
    if request.method == "GET":
        return _list_users(request)
    resource = resource_read(ScimUserModel, json_body(request), Context.RESOURCE_CREATION_REQUEST)
    membership = scim_user_create(
        tenant=request.tenant, resource=resource, actor=request.scim_actor
    )
    return _resource(_user(membership, location_base(request)), status=201, created=True)


@scim_view({"POST"})
def users_search(request: ScimRequest) -> HttpResponse:
    return _list_users(request)


@scim_view({"POST"})
def groups_search(request: ScimRequest) -> HttpResponse:
    return _list_groups(request)


@scim_view({"POST"})
def search(request: ScimRequest) -> HttpResponse:
    """POST /.search: Users then Groups, one page over both (§3.4.3). A filter on an attribute
    only one of them has matches nothing of the other."""
    query = _query(request)
    start, count = paging(query.get("startIndex"), query.get("count"))
    base = location_base(request)
    kinds = (
        (_user_page, ScimUserModel, lambda m: _user(m, base)),
        (_group_page, ScimGroupModel, lambda g: group_body(g, location_base=base)),
    )
    items: list[dict[str, Any]] = []
    failures: list[ScimInvalidFilter] = []
    totals, skip, left = 0, start - 1, count
    for page_of_kind, model, body_of in kinds:
        try:
            parameters = _parameters(query, model)
            total = page_of_kind(request, query, start=1, count=0).total
        except ScimInvalidFilter as exc:
            failures.append(exc)
            continue
        totals += total
        if left and skip < total:
            page = page_of_kind(request, query, start=skip + 1, count=left)
            items.extend(_shaped(body_of(r), model, parameters) for r in page.items)
            left -= len(page.items)
        skip = max(0, skip - total)
    if len(failures) == len(kinds):
        raise failures[0]
    return _list(items, total=totals, start=start)


def _user(membership, base: str) -> dict[str, Any]:
    return user_body(membership, location_base=base)


@scim_view({"GET", "PUT", "PATCH", "DELETE"})
def user(request: ScimRequest, user_id: str) -> HttpResponse:
    base = location_base(request)
    membership = scim_user_get(tenant=request.tenant, user_id=user_id)
    if membership is None:
        raise ScimNotFound(f"No user {user_id}")
    if request.method == "GET":
        parameters = _parameters(_query(request), ScimUserModel)
        body = _user(membership, base)
        return _resource({**_shaped(body, ScimUserModel, parameters), "meta": body["meta"]})
    write = _write(request, base)
    if request.method == "DELETE":
        scim_user_delete(membership=membership, **write)
        return HttpResponse(status=204)
    if request.method == "PUT":
        resource = resource_read(
            ScimUserModel, json_body(request), Context.RESOURCE_REPLACEMENT_REQUEST
        )
        membership = scim_user_replace(membership=membership, resource=resource, **write)
    else:
        membership = scim_user_patch(membership=membership, body=json_body(request), **write)
    return _resource(_user(membership, base))


# --- groups -------------------------------------------------------------------------------------


@scim_view({"GET", "POST"})
def groups(request: ScimRequest) -> HttpResponse:
    if request.method == "GET":
        return _list_groups(request)
    resource = resource_read(ScimGroupModel, json_body(request), Context.RESOURCE_CREATION_REQUEST)
    group = scim_group_create(tenant=request.tenant, resource=resource, actor=request.scim_actor)
    return _resource(
        group_body(group, location_base=location_base(request)), status=201, created=True
    )


@scim_view({"GET", "PUT", "PATCH", "DELETE"})
def group(request: ScimRequest, group_id: str) -> HttpResponse:
    base = location_base(request)
    found = scim_group_get(tenant=request.tenant, group_id=group_id)
    if found is None:
        raise ScimNotFound(f"No group {group_id}")
    if request.method == "GET":
        parameters = _parameters(_query(request), ScimGroupModel)
        body = group_body(found, location_base=base)
        return _resource({**_shaped(body, ScimGroupModel, parameters), "meta": body["meta"]})
    write = _write(request, base)
    if request.method == "DELETE":
        scim_group_delete(group=found, **write)
        return HttpResponse(status=204)
    if request.method == "PUT":
        resource = resource_read(
            ScimGroupModel, json_body(request), Context.RESOURCE_REPLACEMENT_REQUEST
        )
        found = scim_group_replace(group=found, resource=resource, **write)
    else:
        found = scim_group_patch(group=found, body=json_body(request), **write)
    return _resource(group_body(found, location_base=base))


@scim_view({"GET", "POST", "PUT", "PATCH", "DELETE"})
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    raise ScimNotFound("No such SCIM endpoint")
