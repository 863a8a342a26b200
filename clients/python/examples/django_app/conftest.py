"""The fixtures of tessera_client.testing for the example's tests, and Django set up.

In your own project, enable them in the top-level conftest.py instead:

    pytest_plugins = ["tessera_client.testing.fixtures"]
"""

import os

import django

from tessera_client.testing import DEFAULT_TENANT_ID
from tessera_client.testing.fixtures import tessera_django, tessera_fake  # noqa: F401

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "docservice.settings")
os.environ.setdefault("TESSERA_TENANT_IDS", DEFAULT_TENANT_ID)  # the fake's tenant
django.setup()
