"""A member's sign-in, seen and ended by a tenant administrator: inputs, outputs and views."""
