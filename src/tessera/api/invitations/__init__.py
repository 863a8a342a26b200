"""/api/v1/invitations: inputs, outputs and views."""
