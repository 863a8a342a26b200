"""Errors of the tenancy layer."""

from tessera.errors import Conflict, NotFound, PermissionDenied, ValidationFailed


class TenantNotFound(NotFound):
    code = "tenant_not_found"


class NotAMember(PermissionDenied):
    code = "not_a_member"


class MembershipExists(Conflict):
    code = "membership_exists"


class ManagerInvalid(ValidationFailed):
    code = "manager_invalid"
