"""Single sign-on through the tenant's OpenID Connect identity providers (docs/sso.md)."""
