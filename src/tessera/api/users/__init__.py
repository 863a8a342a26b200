"""/api/v1/users: inputs, outputs and views."""
