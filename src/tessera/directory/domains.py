"""Writes of verified domains: claim, verify by DNS TXT, approve (platform), delete.

A tenant claims `example.com` and receives a token; publishing
`TXT _tessera-challenge.example.com "tessera-domain-verification=<token>"` and calling
`domain_verify` proves control. A platform administrator may `domain_approve` instead. One tenant
at most holds a domain verified (409 `domain_taken` for the others, race-safe by a partial unique
constraint). Verification makes the identities at the domain managed by the tenant. Each change is
audited in the tenant's trail (TENANT_SETTINGS_CHANGED, resource `domain`).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from tessera.audit.models import AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.directory.dns import TxtLookupFailed, txt_resolver
from tessera.directory.errors import (
    DomainAlreadyVerified,
    DomainExists,
    DomainInvalid,
    DomainNotVerified,
    DomainTaken,
)
from tessera.directory.models import Domain, DomainVerificationMethod
from tessera.errors import field_error
from tessera.identity.models import User
from tessera.tenancy.models import Tenant

TXT_PREFIX = "_tessera-challenge"
TXT_VALUE_PREFIX = "tessera-domain-verification="
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


@dataclass(frozen=True, slots=True)
class TxtChallenge:
    """The record to publish: `type` is always "dns-txt"."""

    name: str
    value: str
    type: str = "dns-txt"


def domain_normalize(raw: object) -> str:
    """The lower-case ASCII form of a domain name; 422 `domain_invalid` for anything else
    (a single label, an address, a URL, an IP address, a label longer than 63)."""

    def bad(message: str) -> DomainInvalid:
        return DomainInvalid(message, errors=[field_error("domain", message, "domain_invalid")])

    if not isinstance(raw, str) or not raw.strip():
        raise bad("Give a domain name such as example.com.")
    name = raw.strip().lower().rstrip(".")
    try:
        name = name.encode("idna").decode("ascii")
    except UnicodeError:
        raise bad("Not a valid domain name.") from None
    labels = name.split(".")
    if len(name) > 253 or len(labels) < 2 or not all(_LABEL.fullmatch(x) for x in labels):
        raise bad("Give a domain name such as example.com (at least two labels).")
    if labels[-1].isdigit():
        raise bad("An IP address is not a domain name.")
    return name


def domain_challenge(domain: Domain) -> TxtChallenge:
    return TxtChallenge(
        name=f"{TXT_PREFIX}.{domain.domain}",
        value=f"{TXT_VALUE_PREFIX}{domain.verification_token}",
    )


def _audit(domain: Domain, action: str, actor: Actor | None, **extra) -> None:
    audit_record(
        type=AuditEventType.TENANT_SETTINGS_CHANGED,
        actor=actor,
        tenant_id=domain.tenant_id,
        resource_type="domain",
        resource_id=domain.pk,
        changes={"domain": domain.domain, "action": action, **extra},
    )


def domain_claim(*, tenant: Tenant, domain: str, actor: Actor | None = None) -> Domain:
    """The tenant claims a domain (unverified); 409 `domain_exists` when it already did,
    409 `domain_taken` when another tenant verified it."""
    name = domain_normalize(domain)
    if (
        Domain.objects.filter(domain=name, verified_at__isnull=False)
        .exclude(tenant=tenant)
        .exists()
    ):
        raise DomainTaken(f"{name} is verified by another tenant")
    try:
        with transaction.atomic():
            claimed = Domain.objects.create(
                tenant=tenant, domain=name, verification_token=secrets.token_urlsafe(24)
            )
            _audit(claimed, "claimed", actor)
    except IntegrityError:
        raise DomainExists(f"{name} is already claimed by this tenant") from None
    return claimed


def _mark_verified(domain: Domain, method: str, actor: Actor | None) -> Domain:
    try:
        with transaction.atomic():
            locked = Domain.objects.select_for_update().get(pk=domain.pk)
            if locked.verified_at is not None:
                raise DomainAlreadyVerified(f"{locked.domain} is already verified")
            locked.verified_at = timezone.now()
            locked.verified_by = method
            locked.save(update_fields=["verified_at", "verified_by"])
            managed = _identities_manage(locked)
            _audit(locked, "verified", actor, method=method, identities_managed=managed)
    except IntegrityError:
        raise DomainTaken(f"{domain.domain} is verified by another tenant") from None
    domain.verified_at, domain.verified_by = locked.verified_at, locked.verified_by
    return domain


def _identities_manage(domain: Domain) -> int:
    """A verified domain makes the identities at it managed by its tenant (docs/identities.md):
    the tenant may edit their profiles, and adds them as active members, not by invitation."""
    return (
        User.objects.filter(email__iendswith=f"@{domain.domain}")
        .exclude(managed_by_tenant_id=domain.tenant_id)
        .update(managed_by_tenant_id=domain.tenant_id)
    )


def domain_verify(*, domain: Domain, actor: Actor | None = None) -> Domain:
    """Verify by DNS: the challenge's TXT record must hold the expected value. 409
    `domain_not_verified` when it does not (or DNS does not answer), 409 `domain_taken` when
    another tenant verified the domain first, 409 `domain_already_verified`."""
    if domain.verified_at is not None:
        raise DomainAlreadyVerified(f"{domain.domain} is already verified")
    challenge = domain_challenge(domain)
    try:
        records = txt_resolver()(challenge.name)
    except TxtLookupFailed:
        raise DomainNotVerified(
            f"DNS did not answer for {challenge.name}; try again later"
        ) from None
    if not any(secrets.compare_digest(r.strip(), challenge.value) for r in records):
        raise DomainNotVerified(
            f"No TXT record {challenge.name} with the value {challenge.value} was found"
        )
    return _mark_verified(domain, DomainVerificationMethod.DNS_TXT, actor)


def domain_approve(*, domain: Domain, actor: Actor | None = None) -> Domain:
    """A platform administrator vouches for the tenant's claim (no DNS record needed)."""
    return _mark_verified(domain, DomainVerificationMethod.PLATFORM, actor)


def domain_delete(*, domain: Domain, actor: Actor | None = None) -> None:
    """Drop the claim (and its verification): the domain no longer routes to the tenant."""
    with transaction.atomic():
        _audit(domain, "deleted", actor, was_verified=domain.verified_at is not None)
        domain.delete()
