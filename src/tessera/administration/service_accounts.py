"""Service accounts: non-human members of one tenant that hold roles and own API keys.

A service account is a global identity with `is_service_account` (no usable password: the login
refuses it, password resets ignore it) and one membership in the tenant that created it. Its
address is `svc-<slug>@<tenant>.service.tessera.invalid` (RFC 2606 `.invalid`: never deliverable).
It is managed like any member afterwards (roles, deactivation, removal — which revoke its keys).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils.text import slugify

from tessera.administration.member_selectors import _with_roles
from tessera.administration.members import member_roles_assign
from tessera.audit.models import AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.errors import ValidationFailed, field_error
from tessera.identity.models import User
from tessera.identity.services import user_create
from tessera.tenancy.models import Membership, Tenant
from tessera.tenancy.selectors import membership_get
from tessera.tenancy.services import membership_create

MAX_NAME_LENGTH = 150
EMAIL_DOMAIN = "service.tessera.invalid"


def _slug_for(name: str) -> str:
    return (slugify(name)[:40].strip("-")) or "account"


def _free_email(*, slug: str, tenant: Tenant) -> str:
    base = f"svc-{slug}"
    domain = f"{tenant.slug}.{EMAIL_DOMAIN}"
    email = f"{base}@{domain}"
    while User.objects.filter(email=email).exists():
        email = f"{base}-{secrets.token_hex(3)}@{domain}"
    return email


def service_account_create(
    *,
    tenant: Tenant,
    name: str,
    roles: Sequence[str] = (),
    description: str = "",
    by: Membership | None,
    actor: Actor | None = None,
) -> Membership:
    """A new service identity with a membership in `tenant` and the given roles.

    Role slugs are checked like any assignment: unknown 422, roles the actor does not hold 403
    `not_held`, a full role 409.
    """

    cleaned = name.strip() if isinstance(name, str) else ""
    if not cleaned or len(cleaned) > MAX_NAME_LENGTH:
        raise ValidationFailed(
            "Invalid name",
            errors=[field_error("name", f"Between 1 and {MAX_NAME_LENGTH} characters.")],
        )
    with transaction.atomic():
        user = user_create(
            email=_free_email(slug=_slug_for(cleaned), tenant=tenant),
            password=None,
            first_name=cleaned,
            is_service_account=True,
            metadata={"service_account": {"tenant_id": str(tenant.pk), "description": description}},
        )
        membership = membership_create(
            tenant=tenant, user=user, actor=actor, job_title="Service account"
        )
        slugs = list(roles or ())
        if slugs:
            member_roles_assign(membership=membership, slugs=slugs, by=by, actor=actor)
        audit_record(
            type=AuditEventType.USER_CREATED,
            actor=actor,
            tenant_id=tenant.pk,
            resource_type="user",
            resource_id=user.pk,
            changes={
                "email": user.email,
                "service_account": True,
                "name": cleaned,
                "roles": slugs,
            },
        )
    membership.user = user
    return membership


def service_accounts_list(
    *, tenant: Tenant, limit: int, after: tuple[datetime, uuid.UUID] | None = None
) -> list[Membership]:
    """The tenant's service accounts (memberships, identity and roles loaded), oldest first."""

    query = _with_roles(Membership.objects.filter(tenant=tenant, user__is_service_account=True))
    if after is not None:
        created_at, last_id = after
        query = query.filter(
            Q(created_at__gt=created_at) | Q(created_at=created_at, id__gt=last_id)
        )
    return list(query.order_by("created_at", "id")[:limit])


def service_account_get(*, tenant: Tenant, user_id) -> Membership | None:
    """The tenant's service account with this user id (None for anyone else)."""

    membership = membership_get(tenant=tenant, user_id=user_id)
    if membership is None or not membership.user.is_service_account:
        return None
    return membership
