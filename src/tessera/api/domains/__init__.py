"""/api/v1 domains: inputs, outputs and views."""
