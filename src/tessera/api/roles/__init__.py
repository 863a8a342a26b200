"""/api/v1/roles and /api/v1/permissions: inputs, outputs and views."""
