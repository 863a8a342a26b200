"""The person's own account (invitation, email, profile): inputs, outputs and views."""
