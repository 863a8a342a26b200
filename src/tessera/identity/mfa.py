"""A person's second factor: the TOTP authenticator and the backup codes (writes and reads).

    totp_setup ──→ pending factor (sealed secret, URI, QR) ──totp_confirm(code)──→ active + codes
    mfa_code_verify(code)   a TOTP code (replay-proof) or a backup code (single use)
    backup_codes_regenerate  ten new codes; the old ones stop working
    mfa_disable              factor and codes deleted

The login step, the lockout around code checks and the session bookkeeping live in
`tessera.authn.flows.mfa`; the TOTP arithmetic in `tessera.identity.totp`.

Backup codes: ten per user, each 12 characters of Crockford's base32 (60 random bits), shown
once as `xxxx-xxxx-xxxx`. Stored as Argon2id (a salted slow hash, as ASVS 5.0 6.5.2 asks of
secrets below 112 bits), with the user id in the hashed message. The ten codes of a batch share
one random 16-byte salt and the cost parameters (OWASP's minimum: t=2, m=19 MiB), so a
code is checked with one hash: the candidate's digest is computed once under the batch's salt and
looked up among the unused codes — never ten verifications. (A shared salt gives an offline
attacker ten targets per hash: 2^60 / 10 tries per code, each an Argon2id.)
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from argon2.low_level import Type, hash_secret_raw
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tessera.audit.models import AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.crypto import seal, unseal
from tessera.errors import Conflict, NotAuthenticated
from tessera.identity import totp
from tessera.identity.models import BackupCode, TotpFactor, User

BACKUP_CODE_COUNT = 10
BACKUP_CODE_LENGTH = 12
BACKUP_TIME_COST = 2
BACKUP_MEMORY_COST = 19_456  # KiB
BACKUP_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford's base32, lower case
_SECRET_PURPOSE = b"tessera/identity/totp-secret/v1"
_CROCKFORD_ALIASES = str.maketrans({"i": "1", "l": "1", "o": "0"})
DEFAULT_ISSUER = "Tessera"


class MfaCodeInvalid(NotAuthenticated):
    """Wrong, expired, replayed, used or malformed code: one answer for every reason."""

    code = "invalid_mfa_code"


class MfaAlreadyEnabled(Conflict):
    code = "mfa_already_enabled"


class MfaNotEnabled(Conflict):
    code = "mfa_not_enabled"


class MfaSetupNotStarted(Conflict):
    code = "mfa_setup_not_started"


CODE_INVALID_DETAIL = "The code is not valid."


@dataclass(frozen=True, slots=True)
class TotpSetup:
    """What setup shows once: the secret, its otpauth URI and that URI as a QR code (SVG)."""

    secret: str
    otpauth_uri: str
    qr_svg: str


@dataclass(frozen=True, slots=True)
class MfaStatus:
    enabled: bool
    pending: bool
    confirmed_at: datetime | None
    backup_codes_remaining: int


# --- secrets at rest ----------------------------------------------------------------------------


def _seal_secret(secret: str, *, factor_id: uuid.UUID) -> str:
    return seal(secret.encode(), purpose=_SECRET_PURPOSE, context=factor_id.bytes)


def _secret_of(factor: TotpFactor) -> str:
    return unseal(
        factor.secret_encrypted, purpose=_SECRET_PURPOSE, context=factor.pk.bytes
    ).decode()


# --- backup codes -------------------------------------------------------------------------------


def _backup_code_new() -> str:
    return "".join(secrets.choice(BACKUP_ALPHABET) for _ in range(BACKUP_CODE_LENGTH))


def _shown(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def normalize_backup_code(code: str | None) -> str | None:
    """The code's 12 characters (dashes, spaces and case ignored; i/l read as 1, o as 0)."""
    if not isinstance(code, str) or len(code) > 64:
        return None
    cleaned = code.replace("-", "").replace(" ", "").strip().lower().translate(_CROCKFORD_ALIASES)
    if len(cleaned) != BACKUP_CODE_LENGTH or any(ch not in BACKUP_ALPHABET for ch in cleaned):
        return None
    return cleaned


def _backup_message(user_id, code: str) -> bytes:
    return f"{user_id}:{code}".encode()


def _backup_params() -> str:
    """OWASP's minimum Argon2id cost (t=2, m=19 MiB, p=1), or the passwords' if lower (tests):
    a modest cost, since ten codes are hashed at each (re)generation."""
    time_cost = min(settings.ARGON2_TIME_COST, BACKUP_TIME_COST)
    memory_cost = min(settings.ARGON2_MEMORY_COST, BACKUP_MEMORY_COST)
    return f"t={time_cost},m={memory_cost},p=1"


def _backup_digest(user_id, code: str, *, salt: str, params: str) -> str:
    """Argon2id of the code (hex) under the batch's salt and cost parameters."""
    cost = dict(part.split("=", 1) for part in params.split(","))
    return hash_secret_raw(
        _backup_message(user_id, code),
        bytes.fromhex(salt),
        time_cost=int(cost["t"]),
        memory_cost=int(cost["m"]),
        parallelism=int(cost["p"]),
        hash_len=32,
        type=Type.ID,
    ).hex()


def _backup_codes_replace(*, user: User, now: datetime) -> list[str]:
    BackupCode.objects.filter(user_id=user.pk).delete()
    codes: set[str] = set()
    while len(codes) < BACKUP_CODE_COUNT:
        codes.add(_backup_code_new())
    ordered = sorted(codes)
    salt, params = secrets.token_hex(16), _backup_params()
    BackupCode.objects.bulk_create(
        BackupCode(
            user_id=user.pk,
            code_hash=_backup_digest(user.pk, code, salt=salt, params=params),
            salt=salt,
            params=params,
            created_at=now,
        )
        for code in ordered
    )
    return [_shown(code) for code in ordered]


# --- reads --------------------------------------------------------------------------------------


def mfa_enabled(*, user_id) -> bool:
    """Whether the user has a confirmed second factor."""
    return TotpFactor.objects.filter(user_id=user_id, confirmed_at__isnull=False).exists()


def mfa_status(*, user_id) -> MfaStatus:
    factor = TotpFactor.objects.filter(user_id=user_id).first()
    remaining = BackupCode.objects.filter(user_id=user_id, used_at__isnull=True).count()
    confirmed = factor.confirmed_at if factor is not None else None
    return MfaStatus(
        enabled=confirmed is not None,
        pending=factor is not None and confirmed is None,
        confirmed_at=confirmed,
        backup_codes_remaining=remaining if confirmed is not None else 0,
    )


# --- writes -------------------------------------------------------------------------------------


def totp_setup(
    *, user: User, issuer: str = DEFAULT_ISSUER, now: datetime | None = None
) -> TotpSetup:
    """Start (or restart) enrolment: a new pending factor; 409 when one is already active."""
    now = now or timezone.now()
    secret = totp.secret_new()
    with transaction.atomic():
        current = TotpFactor.objects.select_for_update().filter(user_id=user.pk).first()
        if current is not None and current.confirmed_at is not None:
            raise MfaAlreadyEnabled("Multi-factor authentication is already enabled")
        if current is not None:
            current.delete()
        factor_id = uuid.uuid4()
        TotpFactor.objects.create(
            id=factor_id,
            user_id=user.pk,
            secret_encrypted=_seal_secret(secret, factor_id=factor_id),
            created_at=now,
        )
    uri = totp.provisioning_uri(secret, account=user.email, issuer=issuer)
    return TotpSetup(secret=secret, otpauth_uri=uri, qr_svg=totp.qr_svg(uri))


def totp_confirm(
    *,
    user: User,
    code: str,
    actor: Actor | None = None,
    tenant_id=None,
    now: datetime | None = None,
) -> list[str]:
    """Activate the pending factor with a valid code; returns the ten backup codes (shown once).

    MfaCodeInvalid (401) for a wrong code, MfaSetupNotStarted (409) without a pending factor.
    """
    now = now or timezone.now()
    with transaction.atomic():
        factor = TotpFactor.objects.select_for_update().filter(user_id=user.pk).first()
        if factor is None:
            raise MfaSetupNotStarted("Start with POST /api/v1/auth/mfa/totp/setup")
        if factor.confirmed_at is not None:
            raise MfaAlreadyEnabled("Multi-factor authentication is already enabled")
        step = totp.code_match(_secret_of(factor), code, now=now)
        if step is None:
            raise MfaCodeInvalid(CODE_INVALID_DETAIL)
        TotpFactor.objects.filter(pk=factor.pk).update(
            confirmed_at=now, last_used_step=step, last_used_at=now
        )
        codes = _backup_codes_replace(user=user, now=now)
        audit_record(
            type=AuditEventType.MFA_ENABLED,
            actor=actor,
            tenant_id=tenant_id,
            resource_type="user",
            resource_id=user.pk,
            changes={"factor": "totp", "backup_codes": len(codes)},
        )
    return codes


def _totp_accept(user: User, code: str, now: datetime) -> bool:
    factor = TotpFactor.objects.filter(user_id=user.pk, confirmed_at__isnull=False).first()
    if factor is None:
        return False
    step = totp.code_match(_secret_of(factor), code, now=now, after_step=factor.last_used_step)
    if step is None:
        return False
    # conditional: of two concurrent uses of one code, exactly one moves the step forward
    return bool(
        TotpFactor.objects.filter(pk=factor.pk)
        .filter(Q(last_used_step__isnull=True) | Q(last_used_step__lt=step))
        .update(last_used_step=step, last_used_at=now)
    )


def _backup_accept(user: User, code: str, now: datetime, actor, tenant_id) -> bool:
    batch = (
        BackupCode.objects.filter(user_id=user.pk, used_at__isnull=True)
        .values_list("salt", "params")
        .first()
    )
    if batch is None:
        return False
    digest = _backup_digest(user.pk, code, salt=batch[0], params=batch[1])
    with transaction.atomic():
        row = (
            BackupCode.objects.filter(user_id=user.pk, code_hash=digest, used_at__isnull=True)
            .values_list("pk", flat=True)
            .first()
        )
        if row is None:
            return False
        if not BackupCode.objects.filter(pk=row, used_at__isnull=True).update(used_at=now):
            return False
        remaining = BackupCode.objects.filter(user_id=user.pk, used_at__isnull=True).count()
        audit_record(
            type=AuditEventType.BACKUP_CODE_USED,
            actor=actor,
            tenant_id=tenant_id,
            resource_type="user",
            resource_id=user.pk,
            changes={"backup_codes_remaining": remaining},
            risk_score=30,
        )
    return True


def mfa_code_verify(
    *,
    user: User,
    code: str,
    actor: Actor | None = None,
    tenant_id=None,
    now: datetime | None = None,
) -> str:
    """Accept a TOTP code ("totp") or an unused backup code ("backup"); MfaCodeInvalid otherwise.

    Callers count failures toward the account lockout (tessera.authn.flows.mfa).
    """
    now = now or timezone.now()
    if totp.normalize_code(code) is not None:
        if _totp_accept(user, code, now):
            return "totp"
        raise MfaCodeInvalid(CODE_INVALID_DETAIL)
    backup = normalize_backup_code(code)
    if backup is not None and mfa_enabled(user_id=user.pk):
        if _backup_accept(user, backup, now, actor, tenant_id):
            return "backup"
    raise MfaCodeInvalid(CODE_INVALID_DETAIL)


def backup_codes_regenerate(
    *, user: User, actor: Actor | None = None, tenant_id=None, now: datetime | None = None
) -> list[str]:
    """Ten new backup codes (shown once); every former one stops working."""
    now = now or timezone.now()
    with transaction.atomic():
        if not TotpFactor.objects.filter(user_id=user.pk, confirmed_at__isnull=False).exists():
            raise MfaNotEnabled("Multi-factor authentication is not enabled")
        codes = _backup_codes_replace(user=user, now=now)
        audit_record(
            type=AuditEventType.MFA_ENABLED,
            actor=actor,
            tenant_id=tenant_id,
            resource_type="user",
            resource_id=user.pk,
            changes={"backup_codes": "regenerated"},
        )
    return codes


def mfa_disable(*, user: User, actor: Actor | None = None, tenant_id=None) -> None:
    """Delete the factor and the backup codes (the caller has checked password and code)."""
    with transaction.atomic():
        deleted, _ = TotpFactor.objects.filter(user_id=user.pk).delete()
        BackupCode.objects.filter(user_id=user.pk).delete()
        if not deleted:
            raise MfaNotEnabled("Multi-factor authentication is not enabled")
        audit_record(
            type=AuditEventType.MFA_DISABLED,
            actor=actor,
            tenant_id=tenant_id,
            resource_type="user",
            resource_id=user.pk,
            changes={"factor": "totp"},
        )
