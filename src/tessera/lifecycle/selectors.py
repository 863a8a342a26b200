"""Reads: a member's offboardings."""

from __future__ import annotations

import uuid

from tessera.lifecycle.models import Offboarding
from tessera.tenancy.models import Tenant


def offboarding_latest(*, tenant: Tenant, user_id) -> Offboarding | None:
    """The person's latest offboarding in this tenant (after the erasure too); None otherwise."""
    try:
        key = uuid.UUID(str(user_id))
    except ValueError:
        return None
    return (
        Offboarding.objects.filter(tenant=tenant, user_id=key)
        .select_related("transfer_to")
        .order_by("-created_at", "-id")
        .first()
    )
