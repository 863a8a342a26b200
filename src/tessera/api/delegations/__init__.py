"""/api/v1/delegations: inputs, outputs and views."""
