"""/api/v1/tenants: inputs, outputs and views."""
