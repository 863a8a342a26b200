"""The admin-site, member-service and revocation tests here act in the API tests' world."""

from tests.api.conftest import API, Api, World, api, platform_admin, world  # noqa: F401 (fixtures)
