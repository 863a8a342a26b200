"""What a validated sign-in does in the tenant: the person (linked or provisioned), the claims
mapped into the membership, the groups mapped to roles, and whether the provider's `amr` counts
as the tenant's MFA. Called by the flow inside the sign-in's transaction."""

from __future__ import annotations

import dataclasses
from typing import Any

from django.db import transaction

from tessera.administration.members import member_update
from tessera.audit.models import ActorType
from tessera.audit.services import Actor
from tessera.directory.groups import membership_groups_sync
from tessera.errors import TesseraError
from tessera.sso.claims import claim_groups, claims_mapped
from tessera.sso.linking import Person, person_resolve
from tessera.sso.models import IdentityProvider
from tessera.tenancy.models import Membership


def actor_as(actor: Actor, user, membership: Membership | None = None) -> Actor:
    return dataclasses.replace(
        actor,
        type=ActorType.USER,
        user_id=user.pk,
        membership_id=membership.pk if membership is not None else None,
    )


def _apply_claims(person: Person, mapped: dict[str, Any], actor: Actor) -> None:
    """Membership fields and attributes from the mapped claims; names while the tenant manages
    the identity. Values the membership cannot take (too long, a duplicate employee id, an
    unknown manager) are dropped, never a reason to refuse the sign-in."""
    membership = person.membership
    changes: dict[str, Any] = {}
    for name in ("department", "job_title", "employee_id", "cost_center", "clearance_level"):
        if name in mapped:
            value = mapped[name]
            changes[name] = value if name == "clearance_level" else str(value)
    attributes = {k.split(".", 1)[1]: v for k, v in mapped.items() if k.startswith("attributes.")}
    if attributes:
        changes["attributes"] = {**(membership.attributes or {}), **attributes}
    if isinstance(mapped.get("manager_email"), str):
        manager = (
            Membership.objects.filter(
                tenant_id=membership.tenant_id, user__email=mapped["manager_email"].lower()
            )
            .exclude(pk=membership.pk)
            .first()
        )
        if manager is not None:
            changes["manager_id"] = str(manager.user_id)
    if membership.user.managed_by_tenant_id == membership.tenant_id:
        for name in ("first_name", "last_name"):
            if isinstance(mapped.get(name), str):
                changes[name] = mapped[name][:150]
    for _ in range(3):
        if not changes:
            return
        try:
            with transaction.atomic():
                member_update(membership=membership, changes=changes, by=None, actor=actor)
            return
        except TesseraError as exc:
            bad = {e["field"].split(".")[0] for e in (exc.errors or [])} or set(changes)
            changes = {k: v for k, v in changes.items() if k not in bad}


def mfa_from_provider(provider: IdentityProvider, claims: dict[str, Any]) -> bool:
    policy = provider.tenant.policy.sso
    amr = claims.get("amr")
    if not policy.mfa_from_provider or not isinstance(amr, list):
        return False
    return bool({a for a in amr if isinstance(a, str)} & set(policy.mfa_amr))


def sign_in_apply(*, provider: IdentityProvider, claims: dict[str, Any], actor: Actor) -> Person:
    mapped = claims_mapped(provider.claim_mapping or {}, claims)
    person = person_resolve(provider=provider, claims=claims, mapped=mapped, actor=actor)
    member_actor = actor_as(actor, person.user, person.membership)
    _apply_claims(person, mapped, member_actor)
    names = claims.get("_claim_names")
    overage = isinstance(names, dict) and provider.group_claim in names
    if provider.group_claim and not overage:
        groups = claim_groups(claims, claim=provider.group_claim, prefix=provider.group_prefix)
        membership_groups_sync(
            membership=person.membership,
            groups=groups,
            source=f"sso:{provider.pk}",
            actor=member_actor,
            default_roles=provider.default_roles,
        )
    elif provider.default_roles:
        membership_groups_sync(
            membership=person.membership,
            groups=set(),
            source=f"sso:{provider.pk}:default",
            actor=member_actor,
            default_roles=provider.default_roles,
        )
    return person
