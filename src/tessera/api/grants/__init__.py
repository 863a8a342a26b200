"""/api/v1/grants: inputs, outputs and views."""
