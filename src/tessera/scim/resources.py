"""The SCIM resources Tessera serves, as scim2-models classes, and the service's description.

The core User and Group are scim2-models' own. The enterprise extension is redeclared at its
standard URN with one difference: `manager.$ref` is optional, because Okta and Entra ID send a
manager as `{"value": "<id>"}` alone.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    ComplexAttribute,
    ETag,
    Extension,
    Filter,
    Group,
    Patch,
    Reference,
    ResourceType,
    ScimPolicy,
    ScimProvider,
    ServiceProviderConfig,
    Sort,
    User,
)
from scim2_models.annotations import CaseExact, Mutability, Required
from scim2_models.urn import URN

MAX_RESULTS = 200
ENTERPRISE_URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"
LIST_URN = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


class Manager(ComplexAttribute):
    value: Annotated[str | None, Required.true, CaseExact.true] = None
    """The id of the manager's SCIM User."""

    ref: Annotated[Reference[User] | None, Required.false] = Field(
        None, serialization_alias="$ref", validation_alias="$ref"
    )
    """The URI of the manager's SCIM User."""

    display_name: Annotated[str | None, Mutability.read_only] = None
    """The manager's displayName."""


class EnterpriseUser(Extension):
    __schema__ = URN(ENTERPRISE_URN)

    employee_number: str | None = None
    """Tessera: the membership's employee id (unique in the tenant)."""

    cost_center: str | None = None
    """Tessera: the membership's cost center."""

    organization: str | None = None
    division: str | None = None

    department: str | None = None
    """Tessera: the membership's department (policy scope `department`)."""

    manager: Manager | None = None
    """Tessera: the membership's manager (policy scope `team`, condition `reports_to`)."""


ScimUserModel = User[EnterpriseUser]
ScimGroupModel = Group

POLICY = ScimPolicy(
    # Entra ID sends `remove` with a value naming the member to drop, and `replace` of
    # `emails[type eq "work"].value` on a user that has no work email yet
    remove_value_as_filter=ScimPolicy.RemoveValue.apply,
    unmatched_path_filter=ScimPolicy.UnmatchedPathFilter.create,
)

CONFIG = ServiceProviderConfig(
    documentation_uri="https://tessera.invalid/docs/scim.md",
    patch=Patch(supported=True),
    bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
    filter=Filter(supported=True, max_results=MAX_RESULTS),
    change_password=ChangePassword(supported=False),
    sort=Sort(supported=False),
    etag=ETag(supported=True),
    authentication_schemes=[
        AuthenticationScheme(
            type="oauthbearertoken",
            name="SCIM bearer token",
            description="The tenant's SCIM credential: Authorization: Bearer tscim_…",
            primary=True,
        )
    ],
)

PROVIDER = ScimProvider(
    models=[User, EnterpriseUser, Group],
    resource_types=[
        ResourceType.from_resource(ScimUserModel),
        ResourceType.from_resource(ScimGroupModel),
    ],
    config=CONFIG,
    policy=POLICY,
)
