import email_validator
from django.apps import AppConfig


class ScimConfig(AppConfig):
    name = "tessera.scim"
    label = "scim"
    verbose_name = "SCIM provisioning"

    def ready(self) -> None:
        # scim2-models types `emails[].value` as pydantic's EmailStr, whose email-validator
        # refuses special-use domains (`corp.local`, `lab.test`, …) that Tessera's own address
        # validation (Django's) accepts and that directories do send. One rule for addresses:
        # Tessera's — else a member created through the API could not be provisioned, and
        # shaping its SCIM answer (`attributes=`) would fail. email-validator documents emptying
        # this list as the way to accept them.
        email_validator.SPECIAL_USE_DOMAIN_NAMES.clear()
