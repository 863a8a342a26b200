"""The tenant administration console (/console/): members, roles, invitations, delegations,
grants, settings and the audit trail, for a tenant's administrators and managers."""
