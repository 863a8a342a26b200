"""Access tokens: what is refused, key rotation, and the JWKS checked by a second JWT library."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import time
from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.utils import timezone
from tests.authn.conftest import login, me

from tessera.audit.models import AuditEvent, AuditEventType
from tessera.authn import keys
from tessera.authn.models import SigningKey
from tessera.authn.tokens import tokens_clear_cache


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _claims(tokens: dict) -> dict:
    return jwt.decode(tokens["access_token"], options={"verify_signature": False})


def _sign(claims: dict, *, headers: dict | None = None, key=None, algorithm="EdDSA") -> str:
    kid, private = keys.signing_key()
    return jwt.encode(
        claims,
        key if key is not None else private,
        algorithm=algorithm,
        headers={"typ": "at+jwt", "kid": kid, **(headers or {})},
    )


def _refused(client, token: str):
    r = me(client, token)
    assert r.status_code == 401, r.content
    assert r["Content-Type"] == "application/problem+json"
    return r.json()


def test_the_token_has_the_documented_header_and_claims(tokens, settings):
    header = jwt.get_unverified_header(tokens["access_token"])
    assert header["alg"] == "EdDSA" and header["typ"] == "at+jwt" and header["kid"]
    claims = _claims(tokens)
    assert {"sub", "tid", "sid", "jti", "iat", "exp", "iss", "aud"} <= set(claims)
    assert claims["iss"] == settings.JWT_ISSUER and claims["aud"] == settings.JWT_AUDIENCE
    assert claims["exp"] - claims["iat"] == 900
    assert claims["sid"] == tokens["session_id"]


def test_our_own_re_signed_claims_are_accepted(client, tokens):
    assert me(client, _sign(_claims(tokens))).status_code == 200


def test_alg_none_is_refused(client, tokens):
    kid = jwt.get_unverified_header(tokens["access_token"])["kid"]
    header = _b64(json.dumps({"alg": "none", "typ": "at+jwt", "kid": kid}).encode())
    payload = _b64(json.dumps(_claims(tokens)).encode())
    _refused(client, f"{header}.{payload}.")


def test_a_wrong_audience_is_refused(client, tokens):
    _refused(client, _sign({**_claims(tokens), "aud": "another-service"}))
    _refused(client, _sign({**_claims(tokens), "aud": ["tessera", "another-service"]}))


@pytest.mark.parametrize("suffix", ["/", ".evil.example", "x"])
def test_a_near_miss_issuer_is_refused(client, tokens, settings, suffix):
    _refused(client, _sign({**_claims(tokens), "iss": settings.JWT_ISSUER + suffix}))
    _refused(client, _sign({**_claims(tokens), "iss": settings.JWT_ISSUER[:-1]}))


def test_a_tampered_payload_is_refused(client, tokens, other_tenant):
    header, _payload, signature = tokens["access_token"].split(".")
    forged = {**_claims(tokens), "sub": "00000000-0000-0000-0000-000000000000"}
    _refused(client, f"{header}.{_b64(json.dumps(forged).encode())}.{signature}")


def test_hmac_keyed_with_the_public_key_is_refused(client, tokens):
    kid = jwt.get_unverified_header(tokens["access_token"])["kid"]
    public = keys.public_key(kid)
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    raw = public.public_bytes_raw()
    payload = _b64(json.dumps(_claims(tokens)).encode())
    for secret in (pem, raw, _b64(raw).encode()):
        header = _b64(json.dumps({"alg": "HS256", "typ": "at+jwt", "kid": kid}).encode())
        mac = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        _refused(client, f"{header}.{payload}.{_b64(mac)}")


def test_a_token_signed_by_another_key_with_our_kid_is_refused(client, tokens):
    intruder = Ed25519PrivateKey.generate()
    _refused(client, _sign(_claims(tokens), key=intruder))


def test_an_unknown_kid_is_refused(client, tokens):
    _refused(client, _sign(_claims(tokens), headers={"kid": "not-a-key-of-ours"}))


def test_a_refresh_token_is_not_an_access_token(client, tokens):
    _refused(client, tokens["refresh_token"])


@pytest.mark.parametrize("typ", ["JWT", "refresh+jwt", "AT+JWT", None])
def test_tokens_of_another_type_are_refused(client, tokens, typ):
    _refused(client, _sign(_claims(tokens), headers={"typ": typ}))


def test_an_expired_token_is_refused(client, tokens):
    now = int(time.time())
    body = _refused(client, _sign({**_claims(tokens), "iat": now - 1000, "exp": now - 60}))
    assert body["code"] == "token_expired"


def test_missing_claims_are_refused(client, tokens):
    for name in ("sid", "exp", "aud", "iss", "sub", "jti"):
        claims = _claims(tokens)
        del claims[name]
        _refused(client, _sign(claims))


def test_a_token_of_a_rotated_out_key_verifies_until_it_expires(client, tokens):
    old_kid = jwt.get_unverified_header(tokens["access_token"])["kid"]
    out = io.StringIO()
    call_command("rotate-signing-key", stdout=out)
    assert "is current" in out.getvalue()
    assert AuditEvent.objects.filter(type=AuditEventType.SIGNING_KEY_ROTATED).exists()
    assert me(client, tokens["access_token"]).status_code == 200
    tokens_clear_cache()  # verify the signature again, not from the verified-token cache
    assert me(client, tokens["access_token"]).status_code == 200
    fresh = login(client, "alice@example.test", tenant="acme").json()
    new_kid = jwt.get_unverified_header(fresh["access_token"])["kid"]
    assert new_kid != old_kid
    published = {k["kid"] for k in client.get("/.well-known/jwks.json").json()["keys"]}
    assert published == {old_kid, new_kid}
    # once every token it signed has expired, the old key neither verifies nor is published
    SigningKey.objects.filter(kid=old_kid).update(
        retired_at=timezone.now() - keys.verify_grace() - timedelta(seconds=1)
    )
    keys.keys_clear_cache()
    tokens_clear_cache()
    _refused(client, tokens["access_token"])
    published = {k["kid"] for k in client.get("/.well-known/jwks.json").json()["keys"]}
    assert published == {new_kid}
    assert me(client, fresh["access_token"]).status_code == 200


def test_another_process_rotating_is_noticed_through_the_unknown_kid(client, alice):
    keys.signing_key()  # this process caches the current key
    rotated = keys.signing_key_rotate()
    keys._signer = None  # ... while a "second process" signs with the new one
    token = login(client, "alice@example.test", tenant="acme").json()["access_token"]
    assert jwt.get_unverified_header(token)["kid"] == rotated.kid
    assert me(client, token).status_code == 200


def test_the_private_key_is_stored_encrypted(db, settings):
    keys.signing_key()
    row = SigningKey.objects.get(is_current=True)
    assert row.private_key_encrypted.startswith("v1:")
    assert row.public_key not in row.private_key_encrypted
    settings.SECRET_KEY = "another-secret-" + "x" * 50
    with pytest.raises(keys.SigningKeyUnavailable):
        keys._decrypt(row.private_key_encrypted, kid=row.kid)
    settings.SECRET_KEY_FALLBACKS = ["test-" + "k" * 20 + "abcdefghijklmnopqrstuvwxyz0123456789"]
    assert len(keys._decrypt(row.private_key_encrypted, kid=row.kid)) == 32


@pytest.mark.filterwarnings("ignore::joserfc.errors.SecurityWarning")
def test_the_jwks_verifies_a_token_with_another_jwt_library(client, tokens, settings):
    from joserfc import jwt as jose_jwt
    from joserfc.jwk import KeySet

    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert "max-age" in response["Cache-Control"]
    key_set = KeySet.import_key_set(response.json())
    token = jose_jwt.decode(tokens["access_token"], key_set, algorithms=["EdDSA"])
    assert token.header["typ"] == "at+jwt"
    registry = jose_jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": settings.JWT_ISSUER},
        aud={"essential": True, "value": settings.JWT_AUDIENCE},
        sub={"essential": True, "value": tokens["user"]["id"]},
    )
    registry.validate(token.claims)
    for jwk in response.json()["keys"]:
        assert "d" not in jwk  # never the private part
