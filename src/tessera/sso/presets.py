"""What each kind of provider brings by default (issuer, discovery, scopes, groups, claims).

- `entra`: issuer `https://login.microsoftonline.com/{tenant}/v2.0` (multi-tenant apps: `{tid}`,
  checked against the token's `tid`); groups in `groups` (object ids); an email counts as
  verified only with `xms_edov: true`.
- `google`: issuer `https://accounts.google.com`; no groups (Workspace groups need the Directory
  API); `hd` must equal `hosted_domain`.
- `okta`: issuer `https://<org>.okta.com` (or an authorization server); groups in `groups` (a
  groups claim filter on the app); the `groups` scope.
- `oidc`: as given.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ENTRA_ISSUER = "https://login.microsoftonline.com/{tenant}/v2.0"
ENTRA_MULTI_TENANT_ISSUER = "https://login.microsoftonline.com/{tid}/v2.0"
GOOGLE_ISSUER = "https://accounts.google.com"


@dataclass(frozen=True, slots=True)
class Preset:
    scopes: tuple[str, ...] = ("openid", "email", "profile")
    group_claim: str = ""
    claim_mapping: dict[str, str] = field(default_factory=dict)


BASE_MAPPING = {
    "email": "email",
    "first_name": "given_name",
    "last_name": "family_name",
}

PRESETS: dict[str, Preset] = {
    "oidc": Preset(claim_mapping=dict(BASE_MAPPING)),
    "entra": Preset(
        group_claim="groups",
        claim_mapping={**BASE_MAPPING, "job_title": "jobTitle", "department": "department"},
    ),
    "google": Preset(claim_mapping=dict(BASE_MAPPING)),
    "okta": Preset(
        scopes=("openid", "email", "profile", "groups"),
        group_claim="groups",
        claim_mapping=dict(BASE_MAPPING),
    ),
}


def discovery_for_issuer(issuer: str) -> str:
    """The OpenID discovery document's URL for an issuer (`{tid}` issuers: Entra's `common`
    or `organizations` endpoint is used for discovery)."""
    base = issuer.rstrip("/")
    if "{tid}" in base:
        base = base.replace("{tid}", "organizations")
    return f"{base}/.well-known/openid-configuration"


def issuer_matches(template: str, issuer: str, tid: object) -> bool:
    """Whether the token's `iss` is the provider's: equal, or for a `{tid}` template equal once
    `{tid}` is replaced by the token's own `tid` claim (Entra multi-tenant apps)."""
    if "{tid}" not in template:
        return issuer == template
    if not isinstance(tid, str) or not tid or "/" in tid:
        return False
    return issuer == template.replace("{tid}", tid)
