"""Erasing a member of a tenant, and their identity when it is theirs alone, in one transaction."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import transaction

from tessera.access.escalation import ensure_target_within
from tessera.access.privacy import access_data_delete
from tessera.access.services.admins import ensure_not_last_admin
from tessera.access.services.delegations import delegations_revoke_given
from tessera.audit.models import AuditEventType
from tessera.audit.services import Actor, audit_record, audit_redact, chain_key
from tessera.authn.privacy import (
    credentials_delete_for_membership,
    credentials_delete_for_user,
    identity_credentials_revoke,
    tenant_sessions_end,
)
from tessera.authn.revocation import credentials_revoke_for_membership
from tessera.errors import NotFound
from tessera.identity.models import (
    User,
)
from tessera.identity.privacy import identity_anonymize
from tessera.privacy.footprint import _footprint, erased_email
from tessera.tenancy.errors import SelfActionForbidden
from tessera.tenancy.models import Membership
from tessera.tenancy.privacy import membership_delete
from tessera.tenancy.services import tenant_policy_bump

# --- erasure -------------------------------------------------------------------------------------


@dataclass(slots=True)
class ErasureSummary:
    user_id: str
    membership_id: str
    identity_anonymized: bool
    revoked: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    audit_events_redacted: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def member_erase(
    *, membership: Membership, by: Membership | None, actor: Actor | None = None
) -> ErasureSummary:
    """Erase the person from the membership's tenant, and anonymize them when it was their only
    tenant (see the module docstring). `by` is the acting membership (None: platform or CLI)."""

    if by is not None and by.user_id == membership.user_id:
        raise SelfActionForbidden("You cannot erase yourself; ask another administrator")
    ensure_target_within(by, membership)  # no one erases a member who outranks them
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=membership.user_id)
        m = Membership.objects.select_for_update().filter(pk=membership.pk).first()
        if m is None:
            raise NotFound("No such user in this tenant")
        ensure_not_last_admin(membership=m)
        tenant_id = m.tenant_id
        elsewhere = Membership.objects.filter(user_id=user.pk).exclude(pk=m.pk).exists()
        anonymize = not elsewhere and not user.is_platform_admin
        footprint = _footprint(membership=m, user=user, everywhere=anonymize)

        revoked = credentials_revoke_for_membership(
            membership=m, reason="member_erased", actor=actor
        )
        revoked["sessions"] += tenant_sessions_end(membership=m)
        revoked["delegations"] = delegations_revoke_given(membership=m, actor=actor)
        if anonymize:
            revoked["identity_sessions"] = identity_credentials_revoke(user=user, actor=actor)

        redacted = audit_redact(
            events=footprint.events(chains=None if anonymize else [chain_key(tenant_id)])
        )
        deleted = {
            **access_data_delete(membership=m),
            **credentials_delete_for_membership(membership=m),
            **membership_delete(membership=m),
        }
        tenant_policy_bump(tenant_id=tenant_id)
        if anonymize:
            credentials = credentials_delete_for_user(user_id=user.pk)
            identity = identity_anonymize(user=user, email=erased_email(user.pk))
            deleted.update(  # in the order of earlier summaries
                identity_sessions=credentials["identity_sessions"],
                password_history=identity["password_history"],
                mfa_factors=identity["mfa_factors"],
                backup_codes=identity["backup_codes"],
                reset_tokens=credentials["reset_tokens"],
                email_tokens=identity["email_tokens"],
                trusted_devices=credentials["trusted_devices"],
            )

        summary = ErasureSummary(
            user_id=str(user.pk),
            membership_id=str(m.pk),
            identity_anonymized=anonymize,
            revoked=revoked,
            deleted=deleted,
            audit_events_redacted=redacted,
        )
        audit_record(
            type=AuditEventType.DATA_ERASED,
            actor=actor,
            tenant_id=tenant_id,
            resource_type="user",
            resource_id=user.pk,
            changes=summary.as_dict(),
        )
    return summary
