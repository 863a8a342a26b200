"""Small secrets kept at rest: sealed with AES-GCM under a key derived from SECRET_KEY.

`seal(raw, purpose=..., context=...)` → `"v1:<base64url(nonce | ciphertext | tag)>"`. The key is
HKDF-SHA256(SECRET_KEY, info=purpose): each purpose (TOTP secrets, …) has its own key. `context`
(e.g. the owning row's id) is the associated data, so a sealed value moved to another row does
not open. `unseal` also tries `SECRET_KEY_FALLBACKS`, so SECRET_KEY rotates the Django way.
`keyed_digest` is the HMAC-SHA256 counterpart for values that are only ever compared (a pepper
derived the same way; the fallbacks give the candidates to look up). `opaque_token_new` makes the
random tokens handed out once (refresh tokens, invitation and verification links), of which only
the SHA-256 is stored.

(tessera.authn.keys seals the JWT signing keys with the same construction and its own purpose.)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

FORMAT = "v1"
OPAQUE_TOKEN_BYTES = 32  # 256 bits
_NONCE_BYTES = 12


class SealedValueUnreadable(RuntimeError):
    """A sealed value does not open with SECRET_KEY or any fallback (or is not ours)."""


@lru_cache(maxsize=64)
def _derived(secret: str, purpose: bytes) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"tessera", info=purpose)
    return hkdf.derive(secret.encode())


def _secrets() -> list[str]:
    return [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]


def seal(raw: bytes, *, purpose: bytes, context: bytes) -> str:
    """Encrypt and authenticate `raw` for `purpose`, bound to `context`."""
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(_derived(settings.SECRET_KEY, purpose)).encrypt(nonce, raw, context)
    return f"{FORMAT}:{base64.urlsafe_b64encode(nonce + sealed).decode().rstrip('=')}"


def unseal(blob: str, *, purpose: bytes, context: bytes) -> bytes:
    """The plaintext of a `seal` result; SealedValueUnreadable when it cannot be opened."""
    version, _, body = (blob or "").partition(":")
    if version != FORMAT:
        raise SealedValueUnreadable(f"unknown sealed format {version!r}")
    try:
        data = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except ValueError:
        raise SealedValueUnreadable("the sealed value is not base64url") from None
    if len(data) <= _NONCE_BYTES:
        raise SealedValueUnreadable("the sealed value is truncated")
    for secret in _secrets():
        try:
            return AESGCM(_derived(secret, purpose)).decrypt(
                data[:_NONCE_BYTES], data[_NONCE_BYTES:], context
            )
        except InvalidTag:
            continue
    raise SealedValueUnreadable("the sealed value does not open with the configured secret")


def keyed_digests(value: bytes, *, purpose: bytes) -> list[str]:
    """HMAC-SHA256 of `value` (hex) under the current key first, then under each fallback."""
    return [
        hmac.new(_derived(secret, purpose), value, hashlib.sha256).hexdigest()
        for secret in _secrets()
    ]


def keyed_digest(value: bytes, *, purpose: bytes) -> str:
    """HMAC-SHA256 of `value` (hex) under the current key: what to store."""
    return hmac.new(_derived(settings.SECRET_KEY, purpose), value, hashlib.sha256).hexdigest()


def opaque_token_new() -> tuple[str, str]:
    """(raw token to hand out once, its SHA-256 to store)."""
    raw = secrets.token_urlsafe(OPAQUE_TOKEN_BYTES)
    return raw, opaque_token_hash(raw)


def opaque_token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()
