"""The differential test's corpus: a seeded sequence of requests and of changes between them.

Requests are symbolic (credential, tenant, body kind); each world turns them into its concrete
headers and bodies (`render`). Changes (a logout, a key revoked, a member suspended) happen at
fixed points, so later requests with those credentials must be refused by both paths alike.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from urllib.parse import urlencode

from tests.fastpath.world import FIXED_REQUEST_ID, World

CHECK = ("POST", "/api/v1/authz/check")
BATCH = ("POST", "/api/v1/authz/check/batch")
ME = ("GET", "/api/v1/auth/me")
REFRESH = ("POST", "/api/v1/auth/refresh")
SCIM = ("GET", "/scim/v2/Users")

CREDENTIALS = (
    "admin",
    "admin",
    "member",
    "member",
    "member",
    "member",
    "key",
    "impersonation",
    "member_later_revoked",
    "victim",
    "pwchange",
    "throttled",
    "throttled",
    "outsider",
    "expired",
    "impersonation",
    "forged",
    "both",
    "garbage",
    "basic",
    "none",
    "key",
    "key_ip_outside",
    "key_ip_inside",
    "key_later_revoked",
    "key_unknown",
    "bearer_key_unknown",
)
SCIM_CREDENTIALS = (
    "scim",
    "scim",
    "scim",
    "scim",
    "scim_slow",
    "scim_outsider",
    "scim_later_revoked",
    "scim_unknown",
    "member",
    "key",
    "garbage",
    "basic",
    "none",
)
# what a SCIM lookup asks (`body`): the lookup a directory sends before a create, in its forms,
# and lists and filters the general query answers
SCIM_QUERIES = (
    "username",
    "username",
    "username",
    "username_upper",
    "external_id",
    "external_id",
    "external_id_case",
    "unknown",
    "invalid",
    "and",
    "list",
    "page_2",
    "count_0",
)
TENANTS = (None, None, None, None, None, "acme", "globex", "no-such-tenant")
REQUEST_IDS = (None, None, FIXED_REQUEST_ID, "bad id!")
ACTIONS = ("user:read", "user:create", "role:read", "role:delete", "grant:read", "document:read")
SUBJECTS = ("member", "admin", "outsider", "missing", "not_a_uuid")
CHECK_BODIES = (
    "valid",
    "valid",
    "valid",
    "resource",
    "subject",
    "subject",
    "context",
    "bad_context",
    "malformed",
    "wrong_type",
    "missing",
    "bad_action",
    "nul",
    "text_plain",
    "empty",
)
BATCH_BODIES = ("valid", "valid", "subjects", "bad_action", "wrong_type", "malformed", "missing")
REFRESH_BODIES = (
    "refresh_a",
    "refresh_a",
    "refresh_b",
    "refresh_later_revoked",
    "unknown",
    "missing",
    "malformed",
    "wrong_type",
)
# changes after these many steps: (step, change, symbol)
CHANGES = (
    (25, "revoke_session", "member_later_revoked"),
    (25, "revoke_session", "refresh_later_revoked"),
    (40, "revoke_key", "key_later_revoked"),
    (45, "revoke_scim_token", "scim_later_revoked"),
    (55, "suspend", "victim"),
)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    credential: str
    tenant: str | None
    body: str
    request_id: str | None
    action: str
    subject: str


@dataclass(frozen=True)
class Change:
    kind: str
    symbol: str


def corpus(seed: int, size: int) -> list[Request | Change]:
    rng = random.Random(seed)
    steps: list[Request | Change] = []
    for i in range(size):
        steps += [Change(kind, symbol) for at, kind, symbol in CHANGES if at == i]
        route = rng.choice((CHECK, CHECK, CHECK, BATCH, ME, ME, REFRESH, SCIM, SCIM))
        bodies = {
            CHECK: CHECK_BODIES,
            BATCH: BATCH_BODIES,
            ME: ("none",),
            REFRESH: REFRESH_BODIES,
            SCIM: SCIM_QUERIES,
        }
        credentials = {REFRESH: ("none",), SCIM: SCIM_CREDENTIALS}.get(route, CREDENTIALS)
        steps.append(
            Request(
                method=route[0],
                path=route[1],
                credential=rng.choice(credentials),
                tenant=rng.choice(TENANTS),
                body=rng.choice(bodies[route]),
                request_id=rng.choice(REQUEST_IDS),
                action=rng.choice(ACTIONS),
                subject=rng.choice(SUBJECTS),
            )
        )
    return steps


def _check_body(kind: str, request: Request, world: World) -> object:
    subject = world.subjects[request.subject]
    return {
        "valid": {"action": request.action},
        "resource": {
            "action": "document:read",
            "resource": {"type": "document", "id": 7, "owner_id": world.subjects["member"]},
        },
        "subject": {"action": request.action, "subject_id": subject},
        "context": {"action": request.action, "context": {"ip": "10.1.2.3", "risk_score": 10}},
        "bad_context": {"action": request.action, "context": {"risk_score": 500}},
        "wrong_type": {"action": 5},
        "missing": {},
        "bad_action": {"action": "NOT AN ACTION"},
        "nul": {"action": "user:\u0000read"},
    }[kind]


def _batch_body(kind: str, request: Request, world: World) -> object:
    return {
        "valid": {"checks": [{"action": a} for a in ACTIONS]},
        "subjects": {
            "checks": [
                {"action": request.action},
                {"action": "user:read", "subject_id": world.subjects[request.subject]},
            ]
        },
        "bad_action": {"checks": [{"action": "user:read"}, {"action": "!!"}]},
        "wrong_type": {"checks": "all of them"},
        "missing": {},
    }[kind]


def _scim_query(request: Request, world: World) -> dict[str, str]:
    member = world.memberships.get(request.subject)
    email = member.user.email if member is not None else f"{request.subject}@nowhere.test"
    return {
        "username": {"filter": f'userName eq "{email}"'},
        "username_upper": {"filter": f'userName eq "{email.upper()}"'},
        "external_id": {"filter": 'externalId eq "00u-member"'},
        "external_id_case": {"filter": 'externalId eq "00U-MEMBER"'},
        "unknown": {"filter": 'userName eq "nobody@nowhere.test"'},
        "invalid": {"filter": 'userName eq "unclosed'},
        "and": {"filter": f'userName eq "{email}" and active eq true'},
        "list": {},
        "page_2": {"filter": f'userName eq "{email}"', "startIndex": "2"},
        "count_0": {"filter": f'userName eq "{email}"', "count": "0"},
    }[request.body]


def target(request: Request, world: World) -> str:
    """The request's path, with its query string in `world`."""
    if request.path != SCIM[1]:
        return request.path
    return f"{request.path}?{urlencode(_scim_query(request, world))}"


def render(request: Request, world: World) -> tuple[dict[str, str], bytes]:
    """The request's headers and body in `world`."""
    headers = dict(world.headers[request.credential])
    if request.tenant is not None:
        headers["X-Tenant"] = world.tenants.get(request.tenant, request.tenant)
    if request.request_id is not None:
        headers["X-Request-ID"] = request.request_id
    if request.method == "GET":
        return headers, b""
    headers["Content-Type"] = "application/json"
    kind = request.body
    if kind == "malformed":
        return headers, b'{"action": '
    if kind == "empty":
        return headers, b""
    if kind == "text_plain":
        headers["Content-Type"] = "text/plain"
        kind = "valid"
    if request.path.endswith("/refresh"):
        token = world.refresh.get(kind)
        body: object = {
            "missing": {},
            "wrong_type": {"refresh_token": 5},
        }.get(kind, {"refresh_token": token})
    elif request.path.endswith("/batch"):
        body = _batch_body(kind, request, world)
    else:
        body = _check_body(kind, request, world)
    return headers, json.dumps(body).encode()
