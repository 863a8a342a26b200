"""Decisions over HTTP: request shapes, typed answers, errors, retries and the decision cache."""

from __future__ import annotations

import json
import threading

import httpx
import pytest

from conftest import BASE_URL
from tessera_client import (
    AsyncTesseraClient,
    Check,
    DecisionCache,
    Resource,
    TesseraClient,
    TesseraError,
    TesseraForbidden,
    TesseraNotFound,
    TesseraRateLimited,
    TesseraUnauthenticated,
    TesseraUnavailable,
    bearer_token,
)

CHECK = "/api/v1/authz/check"
BATCH = "/api/v1/authz/check/batch"


def body_of(request: httpx.Request) -> dict:
    return json.loads(request.content)


@pytest.fixture
def alice(client, make_token, fake):
    fake.permissions["alice"] = {"document:read"}
    return client.verify_token(make_token("alice", "t1", "s-alice"))


def test_check_forwards_the_callers_token_and_answers_typed(client, alice, fake):
    decision = client.check(
        "document:read",
        Resource("document", id=42, owner_id="bob", attributes={"classification": 2}),
        principal=alice,
        context={"mfa": True},
    )
    assert decision.allowed is True and bool(decision) and not decision.cached
    request = fake.requests[-1]
    assert request.url.path == CHECK
    assert request.headers["Authorization"] == f"Bearer {alice.token}"
    assert body_of(request) == {
        "action": "document:read",
        "resource": {
            "type": "document",
            "id": "42",
            "owner_id": "bob",
            "attributes": {"classification": 2},
        },
        "context": {"mfa": True},
    }
    assert not client.check("document:delete", "document", principal=alice)


def test_check_with_the_api_key_and_a_subject(fake):
    fake.permissions["bob"] = {"invoice:approve"}
    with TesseraClient(
        BASE_URL,
        api_key="tsk_abc_secret",
        transport=httpx.MockTransport(fake.handler),
        any_tenant=True,
    ) as client:
        assert client.check("invoice:approve", {"type": "invoice"}, subject_id="bob")
    request = fake.requests[-1]
    assert request.headers["Authorization"] == "Bearer tsk_abc_secret"
    assert body_of(request)["subject_id"] == "bob"


def test_no_credential_is_an_error_before_any_request(client, fake):
    with pytest.raises(TesseraUnauthenticated):
        client.check("document:read")
    assert fake.requests == []


@pytest.mark.parametrize("action", ["document", "a:b:c", ":read", 42])
def test_malformed_actions_are_refused_locally(client, alice, action):
    with pytest.raises(ValueError):
        client.check(action, principal=alice)


def test_check_batch_keeps_order_and_splits_large_batches(client, alice, fake):
    checks = [Check("document:read"), {"action": "document:write", "resource": "document"}]
    assert [d.allowed for d in client.check_batch(checks, principal=alice)] == [True, False]
    assert body_of(fake.requests[-1]) == {
        "checks": [
            {"action": "document:read"},
            {"action": "document:write", "resource": {"type": "document"}},
        ]
    }
    many = [Check("document:read" if i % 2 else "x:y") for i in range(2500)]
    answers = client.check_batch(many, principal=alice)
    assert [d.allowed for d in answers] == [bool(i % 2) for i in range(2500)]
    sizes = [len(body_of(r)["checks"]) for r in fake.requests if r.url.path == BATCH][1:]
    assert sizes == [1000, 1000, 500]


def test_explain_fields_me(client, alice, fake):
    fake.roles["alice"] = ["editor"]
    explanation = client.explain("document:read", "document", principal=alice)
    assert explanation.allowed and explanation.reason == "allowed by role editor"
    assert explanation.matched == ({"rule": 1},) and explanation.raw["policy_version"] == 7
    fields = client.fields("document", principal=alice)
    assert fields.readable == {"title", "body"} and fields.writable == {"title"}
    assert fields.can_read("body") and not fields.can_write("body")
    assert fields.mask({"title": 1, "body": 2, "secret": 3}) == {"title": 1, "body": 2}
    assert fake.requests[-1].url.params["resource_type"] == "document"
    me = client.me(principal=alice)
    assert me.user_id == "alice" and me.tenant_id == "t1"
    assert me.roles == ("editor",) and me.permissions == ("document:read",)
    assert me.has_role("admin", "editor") and not me.has_role("admin")


def test_connection_errors_are_retried(client, alice, fake):
    fake.fail_times = 2
    assert client.check("document:read", principal=alice)
    assert fake.paths(CHECK) == [CHECK] * 3


def test_retries_are_bounded_then_unavailable(client, alice, fake):
    fake.down = True
    with pytest.raises(TesseraUnavailable, match="cannot reach"):
        client.check("document:read", principal=alice)
    assert len(fake.paths(CHECK)) == 1 + client.retries


@pytest.mark.parametrize(
    "status, error",
    [
        (400, TesseraError),
        (401, TesseraUnauthenticated),
        (403, TesseraForbidden),
        (404, TesseraNotFound),
        (409, TesseraError),
        (422, TesseraError),
        (429, TesseraRateLimited),
        (500, TesseraUnavailable),
        (503, TesseraUnavailable),
    ],
)
def test_http_errors_are_typed_and_never_retried(client, alice, fake, status, error):
    fake.status_override = status
    fake.override_body = {"title": "No", "status": status, "detail": f"refused {status}"}
    fake.override_headers = {"Retry-After": "7"}
    with pytest.raises(error) as raised:
        client.check("document:read", principal=alice)
    assert type(raised.value) is error
    assert raised.value.status == (503 if status >= 500 else status)
    assert raised.value.problem.get("status") == status
    if status == 429:
        assert raised.value.retry_after == 7.0
    assert len(fake.paths(CHECK)) == 1


def test_timeouts_are_not_retried(alice):
    calls = []

    def handler(request):
        calls.append(request)
        raise httpx.ReadTimeout("slow", request=request)

    with TesseraClient(BASE_URL, any_tenant=True, transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(TesseraUnavailable, match="did not answer"):
            client.check("document:read", principal=alice)
    assert len(calls) == 1


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, json={"allowed": "yes"}),
        httpx.Response(200, json={"allowed": 1}),
        httpx.Response(200, json={}),
        httpx.Response(200, json=["allowed"]),
        httpx.Response(200, content=b"<html>allowed</html>"),
        httpx.Response(302, headers={"Location": "http://elsewhere/"}),
    ],
)
def test_anything_but_a_boolean_allowed_is_unavailable(alice, response):
    with TesseraClient(
        BASE_URL, any_tenant=True, transport=httpx.MockTransport(lambda r: response)
    ) as client:
        with pytest.raises(TesseraUnavailable):
            client.check("document:read", principal=alice)


def test_batch_answer_of_the_wrong_length_is_unavailable(alice):
    answer = httpx.Response(200, json={"results": [{"allowed": True}]})
    with TesseraClient(
        BASE_URL, any_tenant=True, transport=httpx.MockTransport(lambda r: answer)
    ) as client:
        with pytest.raises(TesseraUnavailable):
            client.check_batch([Check("a:b"), Check("c:d")], principal=alice)


def test_bearer_token_parsing():
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("bearer   abc ") == "abc"
    assert bearer_token("Basic abc") is None
    assert bearer_token("Bearer") is None
    assert bearer_token(None) is None


def test_constructor_validation():
    with pytest.raises(ValueError):
        TesseraClient("ftp://x")
    with pytest.raises(TypeError):
        TesseraClient(BASE_URL, any_tenant=True, decision_cache=True)
    with pytest.raises(TypeError):
        TesseraClient(BASE_URL, any_tenant=True, decision_cache="5")
    with TesseraClient(BASE_URL, any_tenant=True, decision_cache=0) as off:
        assert off.cache is None
    with TesseraClient(BASE_URL, any_tenant=True, decision_cache=2.5) as on:
        assert on.cache is not None and on.cache.ttl == 2.5
    with pytest.raises(ValueError):
        DecisionCache(ttl=0)
    with pytest.raises(ValueError):
        DecisionCache(max_entries=0)


# -- the decision cache ---------------------------------------------------------------------------


def test_cache_is_off_by_default(client, alice, fake):
    assert client.cache is None
    client.check("document:read", principal=alice)
    client.check("document:read", principal=alice)
    assert len(fake.paths(CHECK)) == 2
    assert client.invalidate() == 0


@pytest.fixture
def cached(fake, clock, make_token):
    cache = DecisionCache(ttl=5, max_entries=3, clock=clock)
    c = TesseraClient(
        BASE_URL, any_tenant=True, decision_cache=cache, transport=httpx.MockTransport(fake.handler)
    )
    yield c
    c.close()


def test_cache_serves_repeats_until_its_ttl(cached, make_token, fake, clock):
    fake.permissions["alice"] = {"document:read"}
    alice = cached.verify_token(make_token("alice"))
    assert not cached.check("document:read", principal=alice).cached
    assert cached.check("document:read", principal=alice).cached
    assert len(fake.paths(CHECK)) == 1
    fake.permissions["alice"] = set()  # revoked on the server: stale for at most the TTL
    assert cached.check("document:read", principal=alice).allowed
    clock.advance(5)
    assert not cached.check("document:read", principal=alice).allowed
    assert len(fake.paths(CHECK)) == 2


def test_cache_is_bounded(cached, make_token, fake):
    alice = cached.verify_token(make_token("alice"))
    for i in range(10):
        cached.check(f"doc{i}:read", principal=alice)
    assert len(cached.cache) == 3
    cached.check("doc9:read", principal=alice)  # most recent: still there
    assert len(fake.paths(CHECK)) == 10
    cached.check("doc0:read", principal=alice)  # evicted long ago
    assert len(fake.paths(CHECK)) == 11


def test_cache_keys_cover_the_whole_question(cached, make_token, fake):
    alice = cached.verify_token(make_token("alice", sid="s1"))
    other_session = cached.verify_token(make_token("alice", sid="s2"))
    cached.check("document:read", "document", principal=alice)
    cached.check("document:read", Resource("document", id="1"), principal=alice)
    cached.check("document:read", "document", principal=alice, context={"ip": "10.0.0.1"})
    cached.check("document:read", "document", principal=other_session)
    assert len(fake.paths(CHECK)) == 4


def test_cache_is_never_used_with_an_unverified_token(cached, make_token, fake):
    token = make_token("alice")
    cached.check("document:read", token=token)
    cached.check("document:read", token=token)
    assert len(fake.paths(CHECK)) == 2


def test_invalidate_by_user_tenant_or_all(fake, make_token, clock):
    cache = DecisionCache(ttl=60, clock=clock)
    with TesseraClient(
        BASE_URL, decision_cache=cache, transport=httpx.MockTransport(fake.handler), any_tenant=True
    ) as c:
        a1 = c.verify_token(make_token("alice", "t1"))
        b1 = c.verify_token(make_token("bob", "t1"))
        a2 = c.verify_token(make_token("alice", "t2", "s9"))
        for p in (a1, b1, a2):
            c.check("document:read", principal=p)
        assert len(cache) == 3
        assert c.invalidate(user_id="alice", tenant_id="t1") == 1
        assert c.invalidate(user_id="alice") == 1
        assert len(cache) == 1
        c.check("document:read", principal=a1)
        assert c.invalidate(tenant_id="t1") == 2
        c.check("document:read", principal=b1)
        c.me(principal=b1)
        c.fields("document", principal=b1)
        assert len(cache) == 3
        assert c.invalidate() == 3 and len(cache) == 0


def test_invalidate_also_drops_decisions_about_a_subject(fake, make_token):
    with TesseraClient(
        BASE_URL,
        decision_cache=60,
        api_key="tsk_x",
        transport=httpx.MockTransport(fake.handler),
        any_tenant=True,
    ) as c:
        c.check("document:read", subject_id="carol")
        c.check("document:read", subject_id="dave")
        assert c.check("document:read", subject_id="carol").cached
        assert c.invalidate(user_id="carol") == 1
        assert c.invalidate(tenant_id="any-tenant") == 1  # API-key entries: tenant unknown


def test_invalidation_during_a_request_is_not_undone(fake, make_token):
    cache = DecisionCache(ttl=60)
    client_box = {}

    def handler(request):
        if request.url.path == CHECK:
            client_box["c"].invalidate(user_id="alice")  # a push arrives mid-flight
        return fake.handler(request)

    with TesseraClient(
        BASE_URL, any_tenant=True, decision_cache=cache, transport=httpx.MockTransport(handler)
    ) as c:
        client_box["c"] = c
        alice = c.verify_token(make_token("alice"))
        c.check("document:read", principal=alice)
        assert len(cache) == 0  # the answer may predate the change: not stored


def test_batch_uses_and_fills_the_cache(cached, make_token, fake):
    fake.permissions["alice"] = {"a:read"}
    alice = cached.verify_token(make_token("alice"))
    cached.check("a:read", principal=alice)
    answers = cached.check_batch([Check("a:read"), Check("b:read")], principal=alice)
    assert [(d.allowed, d.cached) for d in answers] == [(True, True), (False, False)]
    assert body_of(fake.requests[-1]) == {"checks": [{"action": "b:read"}]}
    assert all(
        d.cached for d in cached.check_batch([Check("a:read"), Check("b:read")], principal=alice)
    )


def test_cache_is_thread_safe(fake, make_token):
    cache = DecisionCache(ttl=60, max_entries=50)
    with TesseraClient(
        BASE_URL, decision_cache=cache, transport=httpx.MockTransport(fake.handler), any_tenant=True
    ) as c:
        alice = c.verify_token(make_token("alice"))
        errors = []

        def work(n):
            try:
                for i in range(100):
                    c.check(f"r{(n * 7 + i) % 80}:read", principal=alice)
                    if i % 25 == 0:
                        c.invalidate(user_id="alice")
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert errors == [] and len(cache) <= 50


# -- async ----------------------------------------------------------------------------------------


async def test_async_client_does_the_same(aclient, make_token, fake):
    fake.permissions["alice"] = {"document:read"}
    fake.roles["alice"] = ["admin"]
    alice = await aclient.verify_token(make_token("alice"))
    assert (await aclient.check("document:read", "document", principal=alice)).allowed
    assert [
        d.allowed
        for d in await aclient.check_batch([Check("document:read"), Check("x:y")], principal=alice)
    ] == [True, False]
    assert (await aclient.explain("x:y", principal=alice)).reason == "no rule matched"
    assert (await aclient.fields("document", principal=alice)).writable == {"title"}
    assert (await aclient.me(principal=alice)).has_role("admin")


async def test_async_retries_then_unavailable(aclient, make_token, fake):
    alice = await aclient.verify_token(make_token("alice"))
    fake.fail_times = 1
    await aclient.check("document:read", principal=alice)
    assert len(fake.paths(CHECK)) == 2
    fake.down = True
    with pytest.raises(TesseraUnavailable):
        await aclient.check("document:read", principal=alice)
    assert len(fake.paths(CHECK)) == 2 + 1 + aclient.retries


async def test_async_never_retries_4xx(aclient, make_token, fake):
    alice = await aclient.verify_token(make_token("alice"))
    fake.status_override = 401
    with pytest.raises(TesseraUnauthenticated):
        await aclient.check("document:read", principal=alice)
    assert len(fake.paths(CHECK)) == 1


async def test_async_client_shares_the_cache_with_its_sync_twin(fake, make_token):
    with TesseraClient(
        BASE_URL, decision_cache=30, transport=httpx.MockTransport(fake.handler), any_tenant=True
    ) as sync_client:
        alice = sync_client.verify_token(make_token("alice"))
        sync_client.check("document:read", principal=alice)
        async with sync_client.to_async() as twin:
            assert isinstance(twin, AsyncTesseraClient)
            assert (await twin.check("document:read", principal=alice)).cached
            twin.invalidate()
            assert len(sync_client.cache) == 0
