"""Settings for the test suite: the real settings, with test services and cheap hashing.

TESSERA_TEST_DATABASE_URL / TESSERA_TEST_REDIS_URL switch the suite to PostgreSQL / Redis.
Each pytest-xdist worker gets its own Redis database so cache flushes cannot collide.
"""

import os
import tempfile

os.environ["TESSERA_ENV"] = "test"
os.environ.setdefault("TESSERA_VAR_DIR", tempfile.mkdtemp(prefix="tessera-test-"))
os.environ.setdefault(
    "TESSERA_SECRET_KEY", "test-" + "k" * 20 + "abcdefghijklmnopqrstuvwxyz0123456789"
)
os.environ["TESSERA_EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
os.environ.setdefault("TESSERA_ARGON2_TIME_COST", "1")
os.environ.setdefault("TESSERA_ARGON2_MEMORY_COST", "1024")
os.environ.pop("TESSERA_DATABASE_URL", None)
os.environ.pop("TESSERA_REDIS_URL", None)
if os.environ.get("TESSERA_TEST_DATABASE_URL"):
    os.environ["TESSERA_DATABASE_URL"] = os.environ["TESSERA_TEST_DATABASE_URL"]
if os.environ.get("TESSERA_TEST_REDIS_URL"):
    url = os.environ["TESSERA_TEST_REDIS_URL"].rstrip("/")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = 1 + int("".join(ch for ch in worker if ch.isdigit()) or 0)
    base = url.rsplit("/", 1)[0] if url.rsplit("/", 1)[-1].isdigit() else url
    os.environ["TESSERA_REDIS_URL"] = f"{base}/{index}"

from tessera.settings import *  # noqa: E402,F403

# Connections opened by worker threads (Channels consumers, live servers) close after each unit
# of work, so the test database can be dropped at the end.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405

# Tests render templates without collecting first: plain static storage, files found in the apps.
# (A browser test serves collected, hashed assets through `tessera serve`, as production does.)
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
