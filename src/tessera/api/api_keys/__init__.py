"""/api/v1/api-keys: inputs, outputs and views."""
