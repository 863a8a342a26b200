"""/api/v1/service-accounts: inputs, outputs and views."""
