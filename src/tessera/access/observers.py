"""What access does when tenancy announces a change (subscribed in `AccessConfig.ready()`)."""

from __future__ import annotations

from tessera.access.services.roles import roles_create_builtin
from tessera.access.versions import state_invalidate_membership, state_invalidate_tenant
from tessera.tenancy import events
from tessera.tenancy.models import Tenant


def _seed_builtin_roles(*, tenant: Tenant) -> None:
    roles_create_builtin(tenant=tenant)


def subscribe() -> None:
    """A new tenant gets the built-in roles; a bumped version drops the store's cached copy."""
    events.tenant_created.subscribe(_seed_builtin_roles)
    events.tenant_policy_bumped.subscribe(state_invalidate_tenant)
    events.membership_version_bumped.subscribe(state_invalidate_membership)
