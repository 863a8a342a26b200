"""/api/v1/authz: inputs, outputs and views."""
