"""What tenancy announces to the layers above it (they subscribe in their `AppConfig.ready()`).

Each topic is published inside the transaction of the change, so what the observers write commits
or rolls back with it.
"""

from __future__ import annotations

from tessera.observers import Topic

tenant_created = Topic("tenant_created")
"""tenant: a new tenant, before its creation is audited (access seeds the built-in roles)."""

tenant_policy_bumped = Topic("tenant_policy_bumped")
"""tenant_id: every compiled policy of the tenant is stale (the version store drops its copy)."""

membership_version_bumped = Topic("membership_version_bumped")
"""membership_id, tenant_id: the member's compiled policy is stale."""
