"""/api/v1 qualifications: inputs, outputs and views."""
