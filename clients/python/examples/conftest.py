"""The fixtures of tessera_client.testing for the example's tests.

In your own project, enable them in the top-level conftest.py instead:

    pytest_plugins = ["tessera_client.testing.fixtures"]
"""

import os

from tessera_client.testing import DEFAULT_TENANT_ID
from tessera_client.testing.fixtures import tessera_fake, tessera_server  # noqa: F401

# The app serves the fake's tenant; its tokens carry that `tid` by default.
os.environ.setdefault("TESSERA_TENANT_IDS", DEFAULT_TENANT_ID)
