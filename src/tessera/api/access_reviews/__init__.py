"""/api/v1 access reviews: inputs, outputs and views."""
