"""/api/v1/audit-events: inputs, outputs and views."""
