"""Who signed in: (issuer, subject) → a person, a first link, or a just-in-time identity.

    returning: ExternalIdentity(iss, sub) exists ─────────────→ that person (the email claim is
                                                                 ignored: it may have changed)
    first sign-in:
      ├─ no email, or not verified by the provider ───────────→ 403 sso_email_not_verified
      │     (Entra: only `xms_edov: true` vouches for an email; `email_verified` elsewhere)
      ├─ domain not verified by the provider's tenant ────────→ 403 sso_domain_not_verified
      ├─ an identity has the address:
      │     ├─ already linked to another subject of this issuer → 403 sso_link_refused
      │     └─ otherwise ─────────────────────────────────────→ linked (IDENTITY_LINKED)
      └─ no identity: JIT on ─────────────────────────────────→ created, managed by the tenant,
                     JIT off ─────────────────────────────────→ 403 sso_not_a_member
    membership in the provider's tenant:
      active → signs in; suspended or invited → 403 membership_suspended;
      none → JIT on: created active (USER_CREATED, source sso) · JIT off: 403 sso_not_a_member

The email claim alone never takes over an identity ("nOAuth"): a first link needs an address
the provider verified in a domain the tenant proved it owns, and later sign-ins use only
(issuer, subject).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

from django.db import IntegrityError, transaction
from django.utils import timezone

from tessera.audit.models import AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.directory.selectors import domain_for_email
from tessera.errors import ValidationFailed
from tessera.identity.emails import normalize_email
from tessera.identity.models import User
from tessera.identity.services import user_create
from tessera.sso.claims import claim_value
from tessera.sso.errors import (
    MembershipSuspended,
    SsoDomainNotVerified,
    SsoEmailNotVerified,
    SsoLinkRefused,
    SsoNotAllowed,
)
from tessera.sso.models import ExternalIdentity, IdentityProvider, ProviderKind
from tessera.tenancy.models import Membership, MembershipStatus
from tessera.tenancy.services import membership_create


@dataclass(frozen=True, slots=True)
class Person:
    user: User
    membership: Membership
    linked: bool = False  # this sign-in made the (issuer, subject) link
    created_user: bool = False
    created_membership: bool = False


def _email_of(provider: IdentityProvider, claims: dict[str, Any]) -> str:
    raw = claim_value(claims, provider.claim_mapping.get("email", "email").split("|")[0])
    if not isinstance(raw, str):
        return ""
    try:
        return normalize_email(raw)
    except ValidationFailed:
        return ""


def email_verified(provider: IdentityProvider, claims: dict[str, Any]) -> bool:
    """Whether the provider vouches for the email claim (a boolean true, never a guess)."""
    if provider.kind == ProviderKind.ENTRA:
        return claims.get("xms_edov") is True or claims.get("xms_edov") == "1"
    value = claims.get("email_verified")
    return value is True or value == "true"


class _Names(TypedDict, total=False):
    first_name: str
    last_name: str


def _names(claims: dict[str, Any], mapped: dict[str, Any]) -> _Names:
    names = _Names()
    if isinstance(mapped.get("first_name"), str):
        names["first_name"] = str(mapped["first_name"])[:150]
    if isinstance(mapped.get("last_name"), str):
        names["last_name"] = str(mapped["last_name"])[:150]
    return names


def _first_link_user(
    provider: IdentityProvider, claims: dict[str, Any], mapped: dict[str, Any]
) -> tuple[User, bool]:
    email = _email_of(provider, claims)
    if not email or not email_verified(provider, claims):
        raise SsoEmailNotVerified(
            "The identity provider did not vouch for an email address: a first sign-in needs "
            "one it verified"
        )
    domain = domain_for_email(email)
    if domain is None or domain.tenant_id != provider.tenant_id:
        raise SsoDomainNotVerified(
            f"{email.rpartition('@')[2]} is not a verified domain of this tenant: its provider "
            "cannot introduce this address"
        )
    user = User.objects.filter(email=email).first()
    if user is not None:
        other = ExternalIdentity.objects.filter(user=user, issuer=claims["iss"]).exclude(
            subject=claims["sub"]
        )
        if other.exists():
            raise SsoLinkRefused(
                "This address is already linked to another account of this identity provider"
            )
        return user, False
    if not provider.jit:
        raise SsoNotAllowed("You are not a member of this tenant; ask its administrator")
    now = timezone.now()
    created = user_create(email=email, managed_by_tenant=provider.tenant, **_names(claims, mapped))
    User.objects.filter(pk=created.pk).update(email_verified_at=now)
    created.email_verified_at = now
    return created, True


def person_resolve(
    *,
    provider: IdentityProvider,
    claims: dict[str, Any],
    mapped: dict[str, Any],
    actor: Actor,
) -> Person:
    """The person and membership this sign-in is for (see the module docstring); call inside
    the sign-in's transaction: a refusal leaves nothing behind."""
    issuer, subject = claims["iss"], claims["sub"]
    linked = created_user = False
    link = ExternalIdentity.objects.filter(issuer=issuer, subject=subject).select_related("user")
    found = link.first()
    if found is not None:
        user = found.user
    else:
        user, created_user = _first_link_user(provider, claims, mapped)
        try:
            with transaction.atomic():
                ExternalIdentity.objects.create(
                    issuer=issuer,
                    subject=subject,
                    user=user,
                    provider=provider,
                    email_at_link=user.email,
                )
        except IntegrityError:  # a concurrent first sign-in of the same subject linked first
            raced = link.first()
            if raced is None or raced.user_id != user.pk:
                raise SsoLinkRefused("This account was just linked to another identity") from None
        else:
            linked = True
    if not user.is_active or user.is_service_account:
        raise SsoNotAllowed("This identity cannot sign in")
    membership = (
        Membership.objects.select_related("tenant", "user")
        .filter(user=user, tenant_id=provider.tenant_id)
        .first()
    )
    created_membership = False
    if membership is None:
        if not provider.jit:
            raise SsoNotAllowed("You are not a member of this tenant; ask its administrator")
        membership = membership_create(tenant=provider.tenant, user=user, actor=actor)
        membership.tenant = provider.tenant
        created_membership = True
        audit_record(
            type=AuditEventType.USER_CREATED,
            actor=actor,
            tenant_id=provider.tenant_id,
            resource_type="user",
            resource_id=user.pk,
            changes={
                "source": "sso",
                "provider_id": str(provider.pk),
                "identity_created": created_user,
                "status": MembershipStatus.ACTIVE,
            },
        )
    elif membership.status != MembershipStatus.ACTIVE:
        raise MembershipSuspended(f"Your membership of {provider.tenant.name} is not active")
    if linked:
        audit_record(
            type=AuditEventType.IDENTITY_LINKED,
            actor=actor,
            tenant_id=provider.tenant_id,
            resource_type="user",
            resource_id=user.pk,
            changes={"issuer": issuer, "provider_id": str(provider.pk), "jit": created_user},
        )
    return Person(user, membership, linked, created_user, created_membership)
