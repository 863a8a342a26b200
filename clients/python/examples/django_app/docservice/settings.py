"""Settings of the Django example: no database, Tessera does the authentication and authorization.

Run it with either of:
    cd clients/python/examples/django_app && python manage.py runserver 8002
    uvicorn docservice.asgi:application --app-dir clients/python/examples/django_app --port 8002

Environment: TESSERA_URL (default http://127.0.0.1:8000), TESSERA_TENANT_IDS (comma-separated
ids of the tenants served) or TESSERA_ANY_TENANT=1 (one of the two is required), TESSERA_ISSUER,
TESSERA_AUDIENCE, TESSERA_DECISION_CACHE_TTL (seconds; default 0: off).

Its tests, with no Tessera running: `test_docservice.py` (pytest, from this directory).
"""

import os

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-only-not-a-secret")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
ROOT_URLCONF = "docservice.urls"
INSTALLED_APPS: list[str] = []
DATABASES: dict = {}
USE_TZ = True

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    # kept: requests authenticated by a Bearer token (and no session cookie) pass it untouched
    "django.middleware.csrf.CsrfViewMiddleware",
    "tessera_client.django.TesseraMiddleware",  # sets request.principal from the Bearer token
]

TESSERA_CLIENT = {
    "BASE_URL": os.environ.get("TESSERA_URL", "http://127.0.0.1:8000"),
    "ISSUER": os.environ.get("TESSERA_ISSUER") or None,
    "AUDIENCE": os.environ.get("TESSERA_AUDIENCE", "tessera"),
    "TENANT_IDS": [t for t in os.environ.get("TESSERA_TENANT_IDS", "").split(",") if t] or None,
    "ANY_TENANT": os.environ.get("TESSERA_ANY_TENANT") == "1",
    "DECISION_CACHE_TTL": float(os.environ.get("TESSERA_DECISION_CACHE_TTL", "0")),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING")},
}
