"""/api/v1 impersonation: inputs, outputs and views."""
