"""/api/v1/auth: inputs, outputs and views."""
