"""/api/v1/tenant: inputs, outputs and views."""
