"""Who else must use MFA: requirements higher layers add to the tenant's policy at start-up.

`mfa_required_for` (tessera.authn.flows.mfa) asks the tenant's `settings.mfa` first, then each
registered requirement (the joiner template of `tessera.lifecycle` requires MFA of the members it
onboarded). A requirement only ever adds: it never lifts the tenant's policy.
"""

from __future__ import annotations

from collections.abc import Callable

from tessera.tenancy.models import Membership

MfaRequirement = Callable[[Membership], bool]

_requirements: list[MfaRequirement] = []


def mfa_requirement_register(requirement: MfaRequirement) -> None:
    if requirement not in _requirements:
        _requirements.append(requirement)


def mfa_required_elsewhere(membership: Membership) -> bool:
    """Whether a registered requirement asks this member to use MFA."""
    return any(requirement(membership) for requirement in _requirements)
