"""Whose audit events are a member's: the ids that identify them, in this tenant or everywhere."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast

from tessera.access.privacy import access_footprint
from tessera.audit.models import AuditEvent, AuditEventType
from tessera.authn.privacy import credentials_footprint
from tessera.identity.models import User
from tessera.tenancy.models import Membership
from tessera.tenancy.privacy import membership_ids_of

EXPORT_FORMAT = "tessera.member-export/1"
ERASED_DOMAIN = "erased.invalid"
EVENT_BATCH = 1000


def erased_email(user_id) -> str:
    """The email an anonymized identity keeps: unique, undeliverable, and only the id in it."""
    return f"erased-{user_id}@{ERASED_DOMAIN}"


# --- whose audit events --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Footprint:
    """The ids under which a person appears in audit events (as actor or as resource)."""

    user_id: str
    email: str
    membership_ids: tuple[str, ...] = ()
    session_ids: tuple[str, ...] = ()
    api_key_ids: tuple[str, ...] = ()
    grant_ids: tuple[str, ...] = ()
    delegation_ids: tuple[str, ...] = ()
    device_ids: tuple[str, ...] = ()

    def events(self, *, chains: list[str] | None) -> QuerySet[AuditEvent]:
        """The events by or about the person, in these chains (None: every chain).

        About them: their user, membership(s), sessions, API keys, grants, delegations and trusted
        devices as the resource, or their email as a value in `changes`. DATA_ERASED events are
        about the person but carry no personal data (only the id); they are included only when
        the person was the actor (the actor's address is theirs).
        """
        by = Q(actor_user_id=self.user_id) | Q(actor_membership_id__in=self.membership_ids)
        about = Q(resource_type="user", resource_id=self.user_id)
        for resource_type, ids in (
            ("membership", self.membership_ids),
            ("session", self.session_ids),
            ("api_key", self.api_key_ids),
            ("grant", self.grant_ids),
            ("delegation", self.delegation_ids),
            ("trusted_device", self.device_ids),
        ):
            if ids:
                about |= Q(resource_type=resource_type, resource_id__in=ids)
        # the email as a JSON string value (so erasing ann@x leaves joann@x's events alone)
        about |= Q(changes_text__icontains=f'"{self.email}"')
        events = AuditEvent.objects.annotate(changes_text=Cast("changes", TextField()))
        if chains is not None:
            events = events.filter(chain__in=chains)
        return events.filter(by | (about & ~Q(type=AuditEventType.DATA_ERASED)))


def _footprint(*, membership: Membership, user: User, everywhere: bool) -> Footprint:
    """The person's ids in the membership's tenant (everywhere: in every tenant)."""

    tenant_id = None if everywhere else membership.tenant_id
    access = access_footprint(user_id=user.pk, tenant_id=tenant_id)
    credentials = credentials_footprint(user_id=user.pk, tenant_id=tenant_id)
    return Footprint(
        user_id=str(user.pk),
        email=user.email,
        membership_ids=membership_ids_of(
            user_id=user.pk, membership=None if everywhere else membership
        ),
        session_ids=credentials["session_ids"],
        api_key_ids=credentials["api_key_ids"],
        grant_ids=access["grant_ids"],
        delegation_ids=access["delegation_ids"],
        device_ids=credentials["device_ids"],
    )
