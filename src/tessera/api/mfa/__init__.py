"""/api/v1/auth/mfa: inputs, outputs and views."""
