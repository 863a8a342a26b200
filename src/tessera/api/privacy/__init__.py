"""GDPR requests: inputs, outputs and views."""
