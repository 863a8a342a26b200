"""Channel-layer group names: one per user, one per tenant, one per tenant's administrators."""


def user_group(user_id) -> str:
    return f"user.{user_id}"


def tenant_group(tenant_id) -> str:
    return f"tenant.{tenant_id}"


def tenant_admins_group(tenant_id) -> str:
    return f"tenant-admins.{tenant_id}"
