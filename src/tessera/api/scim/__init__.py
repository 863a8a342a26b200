"""/scim/v2/: the SCIM 2.0 service provider (plain Django views; not part of the ninja API)."""
