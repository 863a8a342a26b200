"""The fast path answers exactly what Django answers: a seeded corpus of requests (valid, forged,
expired, revoked mid-run, wrong tenant, malformed, over the limit, password-change sessions,
impersonation tokens, API keys with IP allowlists) sent to the fast path in one world and to
Django in an identical other world; status, body and the headers that matter must be equal.

Runs on SQLite, and on PostgreSQL + Redis when TESSERA_TEST_DATABASE_URL / TESSERA_TEST_REDIS_URL
are set (the session state then comes from Redis, the counters too).
"""

from __future__ import annotations

import json

import httpx
import pytest
from asgiref.sync import async_to_sync, sync_to_async

from tessera.asgi import django_http
from tessera.fastpath import chain
from tessera.fastpath.app import FastPath
from tests.fastpath.corpus import Change, Request, corpus, render, target
from tests.fastpath.world import FIXED_REQUEST_ID, World, world_build

pytestmark = pytest.mark.django_db(transaction=True)

# headers whose values must be equal (names of all headers are compared too)
SAME_VALUE_HEADERS = (
    "content-type",
    "www-authenticate",
    "x-frame-options",
    "x-content-type-options",
    "referrer-policy",
    "cross-origin-opener-policy",
    "cache-control",
    "vary",
    "allow",
    "strict-transport-security",
)
TOKEN_FIELDS = ("access_token", "refresh_token")


class CountingFallback:
    """Django behind the WSGI bridge, counting the requests the fast path handed to it."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def __call__(self, scope, receive, send):
        self.calls.append(f"{scope.get('method')} {scope.get('path')}")
        await django_http(scope, receive, send)


def _comparable(response: httpx.Response, world: World, sent_request_id: str | None) -> dict:
    text = world.normalise(response.text)
    try:
        body = json.loads(text)
    except ValueError:
        body = text
    if isinstance(body, dict):
        for name in TOKEN_FIELDS:
            if isinstance(body.get(name), str):
                body[name] = "<token>"
        if "request_id" in body and sent_request_id != FIXED_REQUEST_ID:
            body["request_id"] = "<generated>"
        for resource in body.get("Resources") or ():
            # SCIM users: when each world wrote them, and the ETag over their (world's) ids
            for name in ("created", "lastModified", "version"):
                resource.get("meta", {})[name] = "<world's>"
    headers = {k.lower(): v for k, v in response.headers.items()}
    request_id = headers.get("x-request-id")
    return {
        "status": response.status_code,
        "body": body,
        "header_names": sorted(headers),
        "headers": {k: world.normalise(headers[k]) for k in SAME_VALUE_HEADERS if k in headers},
        "request_id": request_id if sent_request_id == FIXED_REQUEST_ID else bool(request_id),
        "retry_after": headers.get("retry-after"),
    }


def _same_retry_after(fast: str | None, django: str | None) -> bool:
    """Retry-After counts seconds to the window's end: the second answer comes a few
    milliseconds later, so the rounded-up counts may differ by one."""
    if fast is None or django is None:
        return fast == django
    return abs(int(fast) - int(django)) <= 1


async def _send(client: httpx.AsyncClient, step: Request, world: World) -> httpx.Response:
    headers, body = render(step, world)
    return await client.request(step.method, target(step, world), headers=headers, content=body)


async def _run(
    steps, fast_world: World, django_world: World, fast_app, outcomes: list[tuple[str, int, str]]
) -> list[str]:
    fast_transport = httpx.ASGITransport(app=fast_app, client=(fast_world.client_ip, 40000))
    django_transport = httpx.ASGITransport(app=django_http, client=(django_world.client_ip, 40000))
    base = "http://testserver"
    mismatches: list[str] = []
    async with (
        httpx.AsyncClient(transport=fast_transport, base_url=base) as fast,
        httpx.AsyncClient(transport=django_transport, base_url=base) as django,
    ):
        for i, step in enumerate(steps):
            if isinstance(step, Change):
                for world in (fast_world, django_world):
                    await sync_to_async(getattr(world, step.kind))(step.symbol)
                continue
            got = _comparable(await _send(fast, step, fast_world), fast_world, step.request_id)
            want = _comparable(
                await _send(django, step, django_world), django_world, step.request_id
            )
            outcomes.append((step.path, got["status"], step.body))
            fast_retry, django_retry = got.pop("retry_after"), want.pop("retry_after")
            if got != want or not _same_retry_after(fast_retry, django_retry):
                mismatches.append(f"step {i} {step}:\n fast   {got}\n django {want}")
    return mismatches


def _differential(
    seed: int, size: int, outcomes: list[tuple[str, int, str]] | None = None
) -> tuple[list[Request | Change], list[str], list[str]]:
    fast_world = world_build("a", "10.0.0.1")
    django_world = world_build("b", "10.0.0.2")
    steps = corpus(seed, size)
    fallback = CountingFallback()
    fast_app = FastPath(fallback)
    mismatches = async_to_sync(_run)(
        steps, fast_world, django_world, fast_app, [] if outcomes is None else outcomes
    )
    return steps, mismatches, fallback.calls


def test_the_fast_path_answers_a_generated_corpus_exactly_as_django():
    outcomes: list[tuple[str, int, str]] = []
    steps, mismatches, handed_over = _differential(seed=17, size=200, outcomes=outcomes)
    assert not mismatches, "\n".join(mismatches[:5])
    assert handed_over == []  # every request of the corpus was the fast path's to answer
    # the corpus reaches the outcomes it is meant to compare
    requests = [s for s in steps if isinstance(s, Request)]
    assert {r.path for r in requests} == {
        "/api/v1/authz/check",
        "/api/v1/authz/check/batch",
        "/api/v1/auth/me",
        "/api/v1/auth/refresh",
        "/scim/v2/Users",
    }
    # SCIM lookups found, refused (no or a revoked token), invalid and over the tenant's budget
    scim = {(status, kind) for path, status, kind in outcomes if path == "/scim/v2/Users"}
    assert {status for status, _ in scim} >= {200, 400, 401, 429}
    assert {kind for status, kind in scim if status == 200} >= {"username", "external_id"}, scim


def test_a_fast_path_that_skips_a_rule_is_caught(monkeypatch):
    """The comparison has teeth: without the throttle, the over-limit answers differ."""
    monkeypatch.setattr(
        chain,
        "SKIPPED_MIDDLEWARE",
        chain.SKIPPED_MIDDLEWARE | {"tessera.api.throttle.ThrottleMiddleware"},
    )
    _, mismatches, _ = _differential(seed=17, size=200)
    assert mismatches
    assert all("429" in m for m in mismatches)
