"""TOTP arithmetic: RFC 6238 Appendix B vectors, the ±1 step window, replay refusal, shapes."""

from __future__ import annotations

import base64
import hashlib

import pytest

from tessera.identity import totp

SEEDS = {
    hashlib.sha1: b"12345678901234567890",
    hashlib.sha256: b"12345678901234567890123456789012",
    hashlib.sha512: b"1234567890123456789012345678901234567890123456789012345678901234",
}
# RFC 6238, Appendix B: (time, SHA-1, SHA-256, SHA-512), 8 digits
VECTORS = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]


def b32(seed: bytes) -> str:
    return base64.b32encode(seed).decode()


@pytest.mark.parametrize(("at", "sha1", "sha256", "sha512"), VECTORS)
def test_rfc6238_appendix_b_vectors(at, sha1, sha256, sha512):
    for digest, expected in (
        (hashlib.sha1, sha1),
        (hashlib.sha256, sha256),
        (hashlib.sha512, sha512),
    ):
        assert totp.code_at(b32(SEEDS[digest]), at, digits=8, digest=digest) == expected


@pytest.mark.parametrize(("at", "sha1"), [(v[0], v[1]) for v in VECTORS])
def test_the_vectors_also_match_through_code_match(at, sha1):
    secret = b32(SEEDS[hashlib.sha1])
    assert totp.code_match(secret, sha1, now=at, digits=8) == totp.time_step(at)


SECRET = totp.secret_new()
NOW = 1_700_000_015.0  # mid-step
STEP = totp.time_step(NOW)


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_codes_one_step_either_side_are_accepted(offset):
    code = totp.code_at_step(SECRET, STEP + offset)
    assert totp.code_match(SECRET, code, now=NOW) == STEP + offset


@pytest.mark.parametrize("offset", [-3, -2, 2, 3])
def test_codes_two_steps_away_are_refused(offset):
    code = totp.code_at_step(SECRET, STEP + offset)
    assert totp.code_match(SECRET, code, now=NOW) is None


def test_the_window_edges_are_exact_in_seconds():
    start = STEP * totp.PERIOD  # first second of STEP
    previous = totp.code_at_step(SECRET, STEP - 1)
    # at the last second of STEP the previous step is still inside the window; a step later not
    assert totp.code_match(SECRET, previous, now=start + totp.PERIOD - 1) == STEP - 1
    assert totp.code_match(SECRET, previous, now=start + totp.PERIOD) is None


def test_a_used_step_and_older_ones_are_replays():
    current = totp.code_at_step(SECRET, STEP)
    older = totp.code_at_step(SECRET, STEP - 1)
    newer = totp.code_at_step(SECRET, STEP + 1)
    assert totp.code_match(SECRET, current, now=NOW, after_step=STEP) is None
    assert totp.code_match(SECRET, older, now=NOW, after_step=STEP) is None
    assert totp.code_match(SECRET, newer, now=NOW, after_step=STEP) == STEP + 1
    assert totp.code_match(SECRET, current, now=NOW, after_step=STEP - 1) == STEP


@pytest.mark.parametrize(
    "code", [None, "", "12345", "1234567", "abcdef", "12 34 5", "１２３４５６", 123456]
)
def test_malformed_codes_never_match(code):
    assert totp.code_match(SECRET, code, now=NOW) is None


def test_spaces_inside_a_code_are_ignored():
    code = totp.code_at_step(SECRET, STEP)
    assert totp.code_match(SECRET, f"{code[:3]} {code[3:]}", now=NOW) == STEP


def test_secret_uri_and_qr_code():
    assert len(SECRET) == 32 and base64.b32decode(SECRET)  # 160 bits of base32
    uri = totp.provisioning_uri(SECRET, account="mia@example.test", issuer="Tessera")
    assert uri.startswith("otpauth://totp/Tessera:mia%40example.test?")
    assert f"secret={SECRET}" in uri and "issuer=Tessera" in uri
    svg = totp.qr_svg(uri)
    assert svg.startswith("<svg") and 'xmlns="http://www.w3.org/2000/svg"' in svg
    assert svg.rstrip().endswith("</svg>")
