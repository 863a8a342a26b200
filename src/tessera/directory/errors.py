"""Errors of the directory (verified domains, group mapping)."""

from tessera.errors import Conflict, ValidationFailed


class DomainInvalid(ValidationFailed):
    code = "domain_invalid"


class DomainExists(Conflict):
    """The tenant already claimed this domain."""

    code = "domain_exists"


class DomainTaken(Conflict):
    """Another tenant has verified this domain: one verified owner per domain."""

    code = "domain_taken"


class DomainNotVerified(Conflict):
    """The DNS TXT record was not found (or did not hold the expected value)."""

    code = "domain_not_verified"


class DomainAlreadyVerified(Conflict):
    code = "domain_already_verified"


class GroupMappingInvalid(ValidationFailed):
    code = "group_mapping_invalid"
