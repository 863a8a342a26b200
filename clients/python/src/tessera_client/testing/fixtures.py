"""pytest fixtures for applications protected by Tessera.

Enable them in the application's top-level conftest.py:

    pytest_plugins = ["tessera_client.testing.fixtures"]

- `tessera_fake` — a fresh `FakeTessera` for each test (nothing leaks between tests): mint tokens
  for chosen members, permissions and roles; decisions answered without a server.
- `tessera_django` — `tessera_fake` installed as the client of `tessera_client.django` for the test
  (the settings' client is restored afterwards).
- `tessera_server` — one throwaway real Tessera per test session (`TesseraServer`, SQLite). Skips
  the tests that use it when no `tessera` executable is found, unless TESSERA_SERVER_REQUIRED=1.

For FastAPI, point the app at the fake in a fixture:

    app.dependency_overrides[get_tessera] = lambda: client   # client = tessera_fake.async_client()
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from .fake import FakeTessera
from .server import TesseraServer, find_tessera


@pytest.fixture
def tessera_fake() -> Iterator[FakeTessera]:
    yield FakeTessera()


@pytest.fixture
def tessera_django(tessera_fake: FakeTessera) -> Iterator[FakeTessera]:
    from tessera_client import django as tessera_django_module

    client = tessera_fake.client()
    tessera_django_module.configure(client)
    try:
        yield tessera_fake
    finally:
        tessera_django_module.configure(None)


@pytest.fixture(scope="session")
def tessera_server() -> Iterator[TesseraServer]:
    if find_tessera() is None:
        reason = "no `tessera` executable (install Tessera or set TESSERA_BIN)"
        if os.environ.get("TESSERA_SERVER_REQUIRED") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    server = TesseraServer().start()
    try:
        yield server
    finally:
        server.stop()
