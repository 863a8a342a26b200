"""POST /api/v1/auth/ws-ticket: inputs, outputs and views."""
