"""The console's views, one module per area; each parses, asks the guard, calls a service."""
