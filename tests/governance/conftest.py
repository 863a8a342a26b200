"""The governance tests reuse the tenant-administration world (acme and globex)."""

from tests.api.conftest import api, platform_admin, world  # noqa: F401
