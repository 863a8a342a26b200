"""/api/v1 identity providers: inputs, outputs and views."""
