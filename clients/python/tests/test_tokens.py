"""Local verification of access tokens against a JWKS made in the test."""

from __future__ import annotations

import asyncio
import base64
import json
import time

import httpx
import jwt
import pytest

from conftest import AUDIENCE, BASE_URL, ISSUER, SigningKey
from tessera_client import (
    AsyncTesseraClient,
    KeySet,
    TesseraClient,
    TesseraUnauthenticated,
    TesseraUnavailable,
    TokenVerifier,
)

JWKS = "/.well-known/jwks.json"


def test_valid_token_gives_the_principal(client, make_token, fake):
    token = make_token("user-7", "tenant-3", "sess-9")
    principal = client.verify_token(token)
    assert principal.user_id == "user-7"
    assert principal.tenant_id == "tenant-3"
    assert principal.session_id == "sess-9"
    assert principal.token == token
    assert principal.expires_at.timestamp() > time.time()
    assert token not in repr(principal)
    assert fake.api_calls() == []


def test_token_without_tenant(client, make_token):
    assert client.verify_token(make_token(tid=None)).tenant_id is None


def test_jwks_is_fetched_once_and_cached(client, make_token, fake):
    for i in range(50):
        client.verify_token(make_token(f"u{i}"))
    assert fake.paths(JWKS) == [JWKS]
    assert client.verifier.keys.fetch_count == 1


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"expires_in": -3600}, "expired"),
        ({"aud": "another-app"}, "audience"),
        ({"iss": "https://evil.example"}, "issuer"),
        ({"typ": "JWT"}, "typ"),
        ({"typ": None}, "typ"),
        ({"drop": ("exp",)}, "exp"),
        ({"drop": ("sub",)}, "sub"),
        ({"drop": ("aud",)}, "aud"),
        ({"nbf": int(time.time()) + 3600}, "not yet valid"),
        ({"iat": int(time.time()) + 3600}, "iat"),
    ],
)
def test_bad_tokens_are_refused_without_calling_the_server(
    client, make_token, fake, kwargs, message
):
    client.verify_token(make_token())  # the JWKS is now held
    before = list(fake.requests)
    with pytest.raises(TesseraUnauthenticated) as err:
        client.verify_token(make_token(**kwargs))
    assert message in str(err.value)
    assert fake.requests == before


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_tampered_payload_is_refused(client, make_token, fake):
    token = make_token("alice")
    client.verify_token(token)
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "admin"
    forged = ".".join([header, _b64(claims), signature])
    before = len(fake.requests)
    with pytest.raises(TesseraUnauthenticated, match="signature"):
        client.verify_token(forged)
    assert len(fake.requests) == before


def test_tampered_signature_is_refused(client, make_token):
    token = make_token()
    header, payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    with pytest.raises(TesseraUnauthenticated):
        client.verify_token(".".join([header, payload, flipped]))


def test_token_signed_by_another_key_with_a_known_kid_is_refused(client, make_token):
    impostor = SigningKey.ed25519("key-1")  # same kid, different key
    with pytest.raises(TesseraUnauthenticated, match="signature"):
        client.verify_token(make_token(key=impostor))


def test_alg_none_is_refused_without_any_request(client, fake):
    header = _b64({"alg": "none", "typ": "at+jwt", "kid": "key-1"})
    payload = _b64({"sub": "admin", "iss": ISSUER, "aud": AUDIENCE, "exp": 2**40, "iat": 1})
    with pytest.raises(TesseraUnauthenticated, match="algorithm"):
        client.verify_token(f"{header}.{payload}.")
    assert fake.requests == []


def test_hs256_with_the_public_key_as_secret_is_refused(client, make_token, signing_key, fake):
    client.verify_token(make_token())
    public = signing_key.jwk()["x"].encode()
    claims = {"sub": "admin", "iss": ISSUER, "aud": AUDIENCE, "exp": 2**40, "iat": 1}
    forged = jwt.encode(
        claims, public, algorithm="HS256", headers={"kid": "key-1", "typ": "at+jwt"}
    )
    with pytest.raises(TesseraUnauthenticated, match="algorithm"):
        client.verify_token(forged)


def test_algorithms_cannot_be_widened():
    with pytest.raises(ValueError):
        TokenVerifier(issuer=ISSUER, any_tenant=True, algorithms=("EdDSA", "HS256"))
    with pytest.raises(ValueError):
        TokenVerifier(issuer=ISSUER, any_tenant=True, algorithms=())


@pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b.c", "x" * 9000])
def test_garbage_is_refused(client, token, fake):
    with pytest.raises(TesseraUnauthenticated):
        client.verify_token(token)
    assert fake.requests == []


def test_token_without_kid_is_refused(client, signing_key):
    claims = {"sub": "u", "iss": ISSUER, "aud": AUDIENCE, "exp": 2**40, "iat": 1}
    token = jwt.encode(claims, signing_key.private, algorithm="EdDSA", headers={"typ": "at+jwt"})
    with pytest.raises(TesseraUnauthenticated, match="key id"):
        client.verify_token(token)


def test_es256_tokens_verify(fake, make_token, clock):
    es_key = SigningKey.es256("ec-1")
    fake.keys.append(es_key)
    with TesseraClient(
        BASE_URL, any_tenant=True, transport=httpx.MockTransport(fake.handler)
    ) as client:
        assert client.verify_token(make_token("ec-user", key=es_key)).user_id == "ec-user"


def test_hmac_keys_in_the_jwks_are_ignored(make_token):
    keys = KeySet()
    oct_key = {"kty": "oct", "kid": "key-1", "k": base64.urlsafe_b64encode(b"s" * 32).decode()}
    with pytest.raises(TesseraUnavailable, match="no usable"):
        keys.load({"keys": [oct_key]})
    with pytest.raises(TesseraUnavailable):
        keys.load({"nope": []})


def test_unknown_kid_right_after_a_fetch_waits_for_the_interval(client, make_token, fake, clock):
    client.verify_token(make_token())
    with pytest.raises(TesseraUnauthenticated, match="unknown key"):
        client.verify_token(make_token(kid="new"))
    assert len(fake.paths(JWKS)) == 1


def test_unknown_kid_refreshes_once_per_interval(client, make_token, fake, clock):
    client.verify_token(make_token())
    assert len(fake.paths(JWKS)) == 1
    clock.advance(client.verifier.keys.min_refresh_interval)
    with pytest.raises(TesseraUnauthenticated, match="unknown key"):
        client.verify_token(make_token(kid="bogus-1"))
    assert len(fake.paths(JWKS)) == 2  # one refresh for the unknown kid
    for i in range(200):  # a flood of made-up kids within the interval: no further request
        with pytest.raises(TesseraUnauthenticated):
            client.verify_token(make_token(kid=f"bogus-{i}"))
    assert len(fake.paths(JWKS)) == 2
    clock.advance(client.verifier.keys.min_refresh_interval + 0.1)
    with pytest.raises(TesseraUnauthenticated):
        client.verify_token(make_token(kid="bogus-again"))
    assert len(fake.paths(JWKS)) == 3
    client.verify_token(make_token())  # known kids never cause a fetch
    assert len(fake.paths(JWKS)) == 3


def test_key_rotation_is_picked_up(client, make_token, fake, clock):
    client.verify_token(make_token())
    clock.advance(client.verifier.keys.min_refresh_interval)
    new_key = SigningKey.ed25519("key-2")
    fake.keys.insert(0, new_key)  # the server rotated: current + previous published
    assert client.verify_token(make_token("rotated", key=new_key)).user_id == "rotated"
    assert client.verify_token(make_token("old")).user_id == "old"  # previous key still valid
    assert len(fake.paths(JWKS)) == 2


def test_keys_are_refreshed_after_max_age_and_kept_if_that_fails(fake, make_token, clock):
    keys = KeySet(clock=clock, max_age=60)
    with TesseraClient(
        BASE_URL, any_tenant=True, keys=keys, transport=httpx.MockTransport(fake.handler)
    ) as c:
        c.verify_token(make_token("a"))
        clock.advance(61)
        fake.down = True
        assert c.verify_token(make_token("b")).user_id == "b"  # stale keys kept, logged
        assert keys.fetch_count == 2
        fake.down = False
        c.verify_token(make_token("c"))  # within the min interval: no new attempt
        assert keys.fetch_count == 2
        clock.advance(keys.min_refresh_interval)
        c.verify_token(make_token("d"))
        assert keys.fetch_count == 3


def test_jwks_unreachable_is_unavailable_not_unauthenticated(fake, make_token, clock):
    fake.down = True
    keys = KeySet(clock=clock)
    with TesseraClient(
        BASE_URL,
        keys=keys,
        retries=1,
        backoff=0.001,
        transport=httpx.MockTransport(fake.handler),
        any_tenant=True,
    ) as c:
        with pytest.raises(TesseraUnavailable):
            c.verify_token(make_token())
        assert len(fake.paths(JWKS)) == 2  # one try + one retry on the connection error
        with pytest.raises(TesseraUnavailable):  # within the back-off: no new request
            c.verify_token(make_token())
        assert len(fake.paths(JWKS)) == 2
        fake.down = False
        clock.advance(1.0)
        assert c.verify_token(make_token()).user_id == "u1"


def test_unknown_kid_while_jwks_unreachable_is_unavailable(client, make_token, fake, clock):
    client.verify_token(make_token())
    fake.down = True
    clock.advance(client.verifier.keys.min_refresh_interval)
    with pytest.raises(TesseraUnavailable):
        client.verify_token(make_token(kid="new-after-rotation"))


def test_tenant_pinning(fake, make_token):
    with TesseraClient(
        BASE_URL, tenant_ids=["t1"], transport=httpx.MockTransport(fake.handler)
    ) as client:
        assert client.verify_token(make_token(tid="t1")).tenant_id == "t1"
        with pytest.raises(TesseraUnauthenticated, match="another tenant"):
            client.verify_token(make_token(tid="t2"))
        with pytest.raises(TesseraUnauthenticated, match="another tenant"):
            client.verify_token(make_token(tid=None))


def test_issuer_defaults_to_base_url_and_can_be_set(fake, make_token):
    with TesseraClient(
        "http://internal:8000",
        issuer=ISSUER,
        transport=httpx.MockTransport(fake.handler),
        any_tenant=True,
    ) as client:
        assert client.verify_token(make_token()).user_id == "u1"
    with TesseraClient(
        "http://internal:8000", any_tenant=True, transport=httpx.MockTransport(fake.handler)
    ) as c2:
        with pytest.raises(TesseraUnauthenticated, match="issuer"):
            c2.verify_token(make_token())


async def test_async_verification_shares_one_fetch(aclient, make_token, fake):
    tokens = [make_token(f"u{i}") for i in range(50)]
    principals = await asyncio.gather(*(aclient.verify_token(t) for t in tokens))
    assert [p.user_id for p in principals] == [f"u{i}" for i in range(50)]
    assert fake.paths(JWKS) == [JWKS]


async def test_async_bad_kid_flood_fetches_at_most_once(aclient, make_token, fake, clock):
    await aclient.verify_token(make_token())
    clock.advance(aclient.verifier.keys.min_refresh_interval)
    results = await asyncio.gather(
        *(aclient.verify_token(make_token(kid=f"bad-{i}")) for i in range(100)),
        return_exceptions=True,
    )
    assert all(isinstance(r, TesseraUnauthenticated) for r in results)
    assert len(fake.paths(JWKS)) == 2


async def test_async_expired_token_refused_without_request(aclient, make_token, fake):
    await aclient.verify_token(make_token())
    before = len(fake.requests)
    with pytest.raises(TesseraUnauthenticated, match="expired"):
        await aclient.verify_token(make_token(expires_in=-60))
    assert len(fake.requests) == before


async def test_keyset_shared_between_sync_and_async(fake, make_token):
    with TesseraClient(
        BASE_URL, any_tenant=True, transport=httpx.MockTransport(fake.handler)
    ) as sync_client:
        sync_client.verify_token(make_token())
        async_client = sync_client.to_async()
        try:
            assert isinstance(async_client, AsyncTesseraClient)
            assert (await async_client.verify_token(make_token("b"))).user_id == "b"
        finally:
            await async_client.aclose()
    assert len(fake.paths(JWKS)) == 1


def test_verify_held_needs_no_io(client, make_token):
    assert client.verifier.verify_held(make_token()) is None  # nothing held yet
    client.verify_token(make_token())
    assert client.verifier.verify_held(make_token("z")).user_id == "z"


async def test_callers_during_a_slow_first_fetch_wait_for_it(fake, make_token):
    async def slow(request):
        await asyncio.sleep(0.2)
        return fake.handler(request)

    async with AsyncTesseraClient(
        BASE_URL, any_tenant=True, transport=httpx.MockTransport(slow)
    ) as client:
        tokens = [make_token(f"u{i}") for i in range(20)]
        principals = await asyncio.wait_for(
            asyncio.gather(*(client.verify_token(t) for t in tokens)), 10
        )
    assert [p.user_id for p in principals] == [f"u{i}" for i in range(20)]
    assert fake.paths(JWKS) == [JWKS]


def test_threads_during_a_slow_first_fetch_wait_for_it(fake, make_token):
    import threading

    def slow(request):
        time.sleep(0.2)
        return fake.handler(request)

    results, errors = [], []
    with TesseraClient(BASE_URL, any_tenant=True, transport=httpx.MockTransport(slow)) as client:

        def work(i):
            try:
                results.append(client.verify_token(make_token(f"u{i}")).user_id)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=10)
    assert errors == [] and sorted(results) == sorted(f"u{i}" for i in range(10))
    assert fake.paths(JWKS) == [JWKS]


def test_a_verified_token_is_remembered_until_it_expires(client, make_token, monkeypatch):
    import tessera_client.tokens as tokens_module

    calls = []
    real_decode = jwt.decode
    monkeypatch.setattr(
        tokens_module.jwt, "decode", lambda *a, **k: calls.append(1) or real_decode(*a, **k)
    )
    token = make_token("alice", expires_in=60)
    for _ in range(5):
        assert client.verify_token(token).user_id == "alice"
    assert len(calls) == 1  # the signature was checked once
    later = time.time() + 60 + client.verifier.leeway + 1
    monkeypatch.setattr(tokens_module.time, "time", lambda: later)
    client.verify_token(token)  # (PyJWT's own clock is not moved, so this still verifies)
    assert len(calls) == 2  # past its expiry, a remembered token is checked in full again


def test_a_remembered_token_is_dropped_with_its_key(client, make_token, fake, clock):
    token = make_token("alice")
    client.verify_token(token)
    fake.keys = [SigningKey.ed25519("key-2")]  # key-1 withdrawn from the JWKS
    clock.advance(client.verifier.keys.min_refresh_interval)
    with pytest.raises(TesseraUnauthenticated):
        client.verify_token(make_token("bob", kid="key-2"))  # refresh (bad signature)
    with pytest.raises(TesseraUnauthenticated, match="unknown key"):
        client.verify_token(token)


def test_remembering_is_bounded_and_can_be_off(fake, make_token):
    verifier = TokenVerifier(issuer=ISSUER, any_tenant=True, remember=3)
    with TesseraClient(
        BASE_URL, verifier=verifier, transport=httpx.MockTransport(fake.handler), any_tenant=True
    ) as c:
        for i in range(10):
            c.verify_token(make_token(f"u{i}"))
        assert len(verifier._verified) == 3
    off = TokenVerifier(issuer=ISSUER, any_tenant=True, remember=0)
    with TesseraClient(
        BASE_URL, any_tenant=True, verifier=off, transport=httpx.MockTransport(fake.handler)
    ) as c:
        c.verify_token(make_token())
        assert len(off._verified) == 0
