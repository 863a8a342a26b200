"""/api/v1 sso: inputs, outputs and views."""
