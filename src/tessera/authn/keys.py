"""JWT signing keys: Ed25519 pairs kept in the database, and the JWK Set that publishes them.

The private half is encrypted with AES-GCM under a key derived from SECRET_KEY by HKDF-SHA256
(the key id is the associated data, so a ciphertext cannot be moved to another row); decryption
also tries SECRET_KEY_FALLBACKS so the secret can be rotated the Django way. One key is current
and signs; `signing_key_rotate` retires it (it keeps verifying, and stays in the JWKS, until every
token it signed has expired) and makes a new one current. The first key is created on first use.

Processes cache keys in memory: the signing key for `SIGNING_CACHE_SECONDS` (after a rotation in
another process the old key signs a little longer, which is harmless: it still verifies), the
public keys by `kid`, reloaded when an unknown `kid` shows up (at most once per
`MISS_RELOAD_SECONDS`, so garbage key ids cannot turn into a query per request) and every
`PUBLIC_CACHE_SECONDS` to notice retirements.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from tessera.audit.models import AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.authn.models import SigningKey

ALG = "EdDSA"
CLOCK_LEEWAY_SECONDS = 5
SIGNING_CACHE_SECONDS = 60
PUBLIC_CACHE_SECONDS = 300
MISS_RELOAD_SECONDS = 1.0
_HKDF_INFO = b"tessera/authn/signing-key-encryption/v1"
_BLOB_VERSION = "v1"


class SigningKeyUnavailable(RuntimeError):
    """The current key cannot be decrypted (SECRET_KEY changed without a fallback)."""


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _wrapping_key(secret: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"tessera", info=_HKDF_INFO)
    return hkdf.derive(secret.encode())


def _encrypt(raw: bytes, *, kid: str) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(_wrapping_key(settings.SECRET_KEY)).encrypt(nonce, raw, kid.encode())
    return f"{_BLOB_VERSION}:{_b64url(nonce + sealed)}"


def _decrypt(blob: str, *, kid: str) -> bytes:
    version, _, body = blob.partition(":")
    if version != _BLOB_VERSION:
        raise SigningKeyUnavailable(f"unknown encryption format {version!r} for key {kid}")
    data = _b64url_decode(body)
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    for secret in secrets:
        try:
            return AESGCM(_wrapping_key(secret)).decrypt(data[:12], data[12:], kid.encode())
        except InvalidTag:
            continue
    raise SigningKeyUnavailable(f"signing key {kid} cannot be decrypted with the configured secret")


def thumbprint(x: str) -> str:
    """RFC 7638 JWK thumbprint of an Ed25519 public key (its `kid`)."""
    canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"))
    return _b64url(hashlib.sha256(canonical.encode()).digest())


def verify_grace() -> timedelta:
    """How long a retired key keeps verifying (and stays published): its last token's lifetime."""
    return timedelta(seconds=settings.ACCESS_TOKEN_TTL + CLOCK_LEEWAY_SECONDS + 60)


def _new_key_row(*, now: datetime, current: bool) -> SigningKey:
    private = Ed25519PrivateKey.generate()
    raw_private = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    x = _b64url(private.public_key().public_bytes_raw())
    kid = thumbprint(x)
    return SigningKey(
        kid=kid,
        alg=ALG,
        public_key=x,
        private_key_encrypted=_encrypt(raw_private, kid=kid),
        is_current=current,
        created_at=now,
    )


def signing_key_rotate(*, actor: Actor | None = None) -> SigningKey:
    """Make a new key current; the former one is retired but keeps verifying its tokens."""
    now = timezone.now()
    with transaction.atomic():
        previous = list(SigningKey.objects.select_for_update().filter(is_current=True))
        SigningKey.objects.filter(is_current=True).update(is_current=False, retired_at=now)
        key = _new_key_row(now=now, current=True)
        key.save(force_insert=True)
        audit_record(
            type=AuditEventType.SIGNING_KEY_ROTATED,
            actor=actor,
            resource_type="signing_key",
            resource_id=key.kid,
            changes={"kid": key.kid, "retired": [k.kid for k in previous], "alg": key.alg},
        )
    keys_clear_cache()
    return key


def _current_row() -> SigningKey:
    row = SigningKey.objects.filter(is_current=True).first()
    if row is not None:
        return row
    try:
        with transaction.atomic():
            row = _new_key_row(now=timezone.now(), current=True)
            row.save(force_insert=True)
            return row
    except IntegrityError:  # another process created the first key at the same moment
        return SigningKey.objects.get(is_current=True)


@dataclass(frozen=True, slots=True)
class _Signer:
    kid: str
    key: Ed25519PrivateKey
    loaded_at: float


@dataclass(frozen=True, slots=True)
class _Verifier:
    key: Ed25519PublicKey
    valid_until: float | None  # epoch seconds; None while the key is current or not yet retired


_lock = threading.Lock()
_signer: _Signer | None = None
_public: dict[str, _Verifier] = {}
_public_loaded_at = 0.0
_last_miss_reload = 0.0


def signing_key() -> tuple[str, Ed25519PrivateKey]:
    """(kid, private key) of the current key, cached in this process."""
    global _signer
    signer = _signer
    if signer is None or time.monotonic() - signer.loaded_at > SIGNING_CACHE_SECONDS:
        row = _current_row()
        private = Ed25519PrivateKey.from_private_bytes(
            _decrypt(row.private_key_encrypted, kid=row.kid)
        )
        signer = _Signer(row.kid, private, time.monotonic())
        _signer = signer
    return signer.kid, signer.key


def _verifying_rows(now: datetime):
    return SigningKey.objects.filter(
        Q(retired_at__isnull=True) | Q(retired_at__gt=now - verify_grace())
    ).order_by("-created_at")


def _reload_public() -> None:
    global _public, _public_loaded_at
    fresh: dict[str, _Verifier] = {}
    grace = verify_grace().total_seconds()
    for row in _verifying_rows(timezone.now()):
        until = row.retired_at.timestamp() + grace if row.retired_at else None
        fresh[row.kid] = _Verifier(
            Ed25519PublicKey.from_public_bytes(_b64url_decode(row.public_key)), until
        )
    _public = fresh
    _public_loaded_at = time.monotonic()


def public_key(kid: str) -> Ed25519PublicKey | None:
    """The public key that verifies tokens with this `kid`, or None (unknown or too old)."""
    global _last_miss_reload
    if time.monotonic() - _public_loaded_at > PUBLIC_CACHE_SECONDS:
        with _lock:
            if time.monotonic() - _public_loaded_at > PUBLIC_CACHE_SECONDS:
                _reload_public()
    found = _public.get(kid)
    if found is None:
        with _lock:
            found = _public.get(kid)
            if found is None and time.monotonic() - _last_miss_reload >= MISS_RELOAD_SECONDS:
                _last_miss_reload = time.monotonic()
                _reload_public()
                found = _public.get(kid)
    if found is None:
        return None
    if found.valid_until is not None and time.time() > found.valid_until:
        return None
    return found.key


def jwks() -> dict:
    """The JWK Set: the current key and every retired key whose tokens may still be alive."""
    _current_row()  # the first key exists before anyone asks for it
    return {
        "keys": [
            {
                "kty": "OKP",
                "crv": "Ed25519",
                "x": row.public_key,
                "kid": row.kid,
                "alg": row.alg,
                "use": "sig",
            }
            for row in _verifying_rows(timezone.now())
        ]
    }


def signing_keys_prune(*, now: datetime) -> int:
    """Delete keys retired long enough ago that nothing they signed can still be valid."""
    deleted, _ = SigningKey.objects.filter(
        is_current=False, retired_at__lt=now - verify_grace()
    ).delete()
    return deleted


def keys_clear_cache() -> None:
    """Forget this process's cached keys (after a rotation; tests)."""
    global _signer, _public, _public_loaded_at, _last_miss_reload
    with _lock:
        _signer = None
        _public = {}
        _public_loaded_at = 0.0
        _last_miss_reload = 0.0
