"""Channel-layer group names: one per user, one per tenant, one per tenant's administrators, and
the tenant-wide stream of service accounts (`notification:read`), and one per API key (so that the
sockets a key opened close the moment it is revoked)."""


def user_group(user_id) -> str:
    return f"user.{user_id}"


def tenant_group(tenant_id) -> str:
    return f"tenant.{tenant_id}"


def tenant_admins_group(tenant_id) -> str:
    return f"tenant-admins.{tenant_id}"


def tenant_stream_group(tenant_id) -> str:
    """Every member's session.revoked, membership.changed and permissions.changed of one tenant."""
    return f"tenant-stream.{tenant_id}"


def api_key_group(api_key_id) -> str:
    return f"api-key.{api_key_id}"
