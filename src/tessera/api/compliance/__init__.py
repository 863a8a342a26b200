"""/api/v1 compliance: inputs, outputs and views."""
