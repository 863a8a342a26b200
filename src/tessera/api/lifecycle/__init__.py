"""/api/v1 lifecycle: inputs, outputs and views."""
