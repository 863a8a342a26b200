"""SCIM 2.0 provisioning (RFC 7643/7644): directories create, update, suspend and remove members."""
