"""Test an application protected by Tessera — with no Tessera, or with a throwaway one.

    # conftest.py of the application
    pytest_plugins = ["tessera_client.testing.fixtures"]

    def test_reader_may_read(tessera_fake, ...):
        token = tessera_fake.mint("u-1", permissions=["document:read"], roles=["editor"])

`FakeTessera` signs access tokens with a key pair of its own, serves the matching JWKS and answers
decisions (`check`, `check/batch`, `explain`, `fields`, `me`) from the permissions and roles you
give each member — over an in-memory transport, so the application's tests need no server.
`TesseraServer` starts a real `tessera serve` on a temporary SQLite file for integration tests.
The fixtures (`tessera_fake`, `tessera_django`, `tessera_server`) are in
`tessera_client.testing.fixtures`.
"""

from .fake import DEFAULT_TENANT_ID, FakeTessera
from .server import TesseraServer, find_tessera

__all__ = ["DEFAULT_TENANT_ID", "FakeTessera", "TesseraServer", "find_tessera"]
