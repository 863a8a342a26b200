"""The permissions Tessera's own API uses, and the built-in roles every tenant gets."""

from __future__ import annotations

SYSTEM_PERMISSIONS: dict[str, str] = {
    "tenant:read": "Read the tenant and its settings",
    "tenant:update": "Change the tenant's settings",
    "user:create": "Add members",
    "user:read": "List and read members",
    "user:update": "Change members' profiles and attributes",
    "user:delete": "Remove members; erase personal data",
    "user:deactivate": "Deactivate and reactivate members",
    "user:export": "Export another member's personal data (GDPR access request)",
    "role:create": "Create roles",
    "role:read": "List and read roles",
    "role:update": "Change roles and their rules",
    "role:delete": "Delete roles",
    "role:assign": "Assign and unassign roles; set overrides",
    "permission:read": "Read the permission catalog",
    "permission:create": "Add tenant-defined permissions",
    "grant:create": "Create object-level grants",
    "grant:read": "List object-level grants",
    "grant:delete": "Revoke object-level grants",
    "delegation:create": "Delegate on someone's behalf",
    "delegation:read": "List delegations",
    "delegation:approve": "Approve pending delegations",
    "delegation:revoke": "Revoke any delegation",
    "session:read": "List members' sessions",
    "session:revoke": "Revoke members' sessions",
    "api_key:create": "Create API keys",
    "api_key:read": "List API keys",
    "api_key:revoke": "Revoke API keys",
    "audit_log:read": "Read the audit trail",
    "audit_log:export": "Export the audit trail",
    "authz:check_others": "Ask decisions about other members",
    "notification:read": "Open the tenant-wide notification stream (WebSocket) with an API key",
    "user:impersonate": (
        "Act as another member (support); only while the tenant enables impersonation, "
        "and only members whose permissions lie within one's own"
    ),
    "access_review:create": "Start access review campaigns",
    "access_review:read": "Read access review campaigns, all their items and reports",
    "compliance:read": "Produce compliance evidence (SOC 2)",
    "qualification:read": "Read the qualification catalog and members' qualification records",
    "qualification:create": "Add qualification types to the tenant's catalog",
    "qualification:verify": "Record (as verifier) and revoke members' qualifications",
    "idp:read": "List and read the tenant's identity providers (single sign-on)",
    "idp:create": "Register identity providers",
    "idp:update": "Change identity providers and the group → role mapping",
    "idp:delete": "Remove identity providers",
}


def _allow(*permissions: str) -> list[dict]:
    return [{"effect": "allow", "permission": p, "scope": "all"} for p in permissions]


BUILTIN_ROLES: dict[str, dict] = {
    "admin": {
        "name": "Administrator",
        "description": "Full access to the tenant.",
        "rules": _allow("*:*"),
    },
    "manager": {
        "name": "Manager",
        "description": "Manages members, their roles, grants and delegations.",
        "rules": _allow(
            "tenant:read",
            "user:create",
            "user:read",
            "user:update",
            "user:deactivate",
            "role:read",
            "role:assign",
            "permission:read",
            "grant:create",
            "grant:read",
            "grant:delete",
            "delegation:create",
            "delegation:read",
            "delegation:approve",
            "delegation:revoke",
            "session:read",
            "session:revoke",
            "api_key:create",
            "api_key:read",
            "audit_log:read",
            "authz:check_others",
        ),
    },
    "member": {
        "name": "Member",
        "description": "A regular member: reads the directory and roles, manages own API keys.",
        "rules": _allow(
            "tenant:read",
            "user:read",
            "role:read",
            "permission:read",
            "grant:read",
            "delegation:read",
            "api_key:create",
            "api_key:read",
        ),
    },
    "viewer": {
        "name": "Viewer",
        "description": "Read-only access to the directory.",
        "rules": _allow("tenant:read", "user:read", "role:read", "permission:read"),
    },
}
