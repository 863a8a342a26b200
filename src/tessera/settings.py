"""Django settings, read from TESSERA_* environment variables with safe laptop defaults."""

from __future__ import annotations

import os

import dj_database_url
from corsheaders.defaults import default_headers
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.retry import Retry

from tessera.config import (
    ConfigurationError,
    check_production,
    cidr_list,
    email_settings,
    env_bool,
    env_float,
    env_int,
    log_format_setting,
    secret_key,
    var_dir,
)
from tessera.log_format import formatter_config
from tessera.origins import origin_of

ENV = os.environ.get("TESSERA_ENV", "development").strip().lower()
if ENV not in {"development", "production", "test"}:
    raise ConfigurationError(f"TESSERA_ENV must be development, production or test, not {ENV!r}")
PRODUCTION = ENV == "production"
DEBUG = env_bool("TESSERA_DEBUG", default=False)
SECURE_COOKIES = env_bool("TESSERA_SECURE_COOKIES", default=PRODUCTION)
if PRODUCTION:
    check_production(debug=DEBUG, cookies_secure=SECURE_COOKIES)

VAR_DIR = var_dir()
SECRET_KEY = secret_key(production=PRODUCTION)

BASE_DOMAIN = os.environ.get("TESSERA_BASE_DOMAIN", "").strip().lower() or None
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("TESSERA_ALLOWED_HOSTS", "").split(",") if h.strip()
] or (["localhost", "127.0.0.1", "[::1]", "testserver"] if not PRODUCTION else [])
if BASE_DOMAIN:
    ALLOWED_HOSTS += [BASE_DOMAIN, f".{BASE_DOMAIN}"]
PUBLIC_URL = os.environ.get("TESSERA_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
# browser front ends allowed to sign in with the session cookie (see tessera.api.transport)
CORS_ORIGINS = [
    o.strip().rstrip("/")
    for o in os.environ.get("TESSERA_CORS_ORIGINS", "").split(",")
    if o.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("TESSERA_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]
# CORS (django-cors-headers) on the API: the deployment's origins here, each tenant's in its
# settings (`cors.allowed_origins`, tessera.tenancy.cors); credentials only for those origins
CORS_ALLOWED_ORIGINS = sorted(
    {o for o in (origin_of(u) for u in [PUBLIC_URL, *CORS_ORIGINS, *CSRF_TRUSTED_ORIGINS]) if o}
)
CORS_URLS_REGEX = r"^/api/"
CORS_ALLOW_CREDENTIALS = True
CORS_ALLOW_HEADERS = (*default_headers, "x-tenant", "x-request-id", "if-match")
CORS_EXPOSE_HEADERS = ["x-request-id", "retry-after", "location", "content-disposition"]
CORS_PREFLIGHT_MAX_AGE = env_int("TESSERA_CORS_PREFLIGHT_MAX_AGE", 600)

INSTALLED_APPS = [
    "tessera.admin_apps.TesseraAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "channels",
    "corsheaders",
    "tessera.api",
    "tessera.identity",
    "tessera.tenancy",
    "tessera.access",
    "tessera.authn",
    "tessera.audit",
    "tessera.realtime",
    "tessera.reviews",
    "tessera.compliance",
    "tessera.qualifications",
    "tessera.lifecycle",
    "tessera.web",
    "tessera.directory",
    "tessera.sso",
    "tessera.console",
    "tessera.scim",
]

MIDDLEWARE = [
    "tessera.api.request_id.RequestIdMiddleware",
    "tessera.api.request_metrics.RequestMetricsMiddleware",
    "tessera.api.security_middleware.SecurityHeadersMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "tessera.api.fallback.ProblemFallbackMiddleware",
    "tessera.api.text_guard.UnstorableTextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "tessera.web.headers.PageSecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "tessera.web.language.PageLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "tessera.authn.middleware.PrincipalMiddleware",
    "tessera.tenancy.middleware.TenantMiddleware",
    "tessera.api.throttle.ThrottleMiddleware",
    "tessera.authn.deferred.DeferredWorkMiddleware",
]

ROOT_URLCONF = "tessera.urls"
HTTP_THREADS = env_int("TESSERA_HTTP_THREADS", 8)
# hot API routes answered in front of Django (tessera.fastpath, docs/decisions/0020-fast-path.md)
FAST_PATH = env_bool("TESSERA_FAST_PATH", default=True)
ASGI_APPLICATION = "tessera.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("TESSERA_DATABASE_URL", "").strip()
# Failures (docs/operations/failures.md): a database that does not answer costs at most these
# seconds (connecting, one statement; 0 = no statement limit), then the request gets a 503 problem.
DB_CONNECT_TIMEOUT = env_int("TESSERA_DB_CONNECT_TIMEOUT", 3)
DB_STATEMENT_TIMEOUT = env_int("TESSERA_DB_STATEMENT_TIMEOUT", 30)
# The hot-path reads (tessera.access.prepared) are prepared once per PostgreSQL connection; turn
# that off behind a pooler that cannot keep prepared statements (PgBouncer in transaction mode
# before 1.21, or without `max_prepared_statements`).
DB_PREPARED_STATEMENTS = env_bool("TESSERA_DB_PREPARED_STATEMENTS", True)
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=600, conn_health_checks=True)
    if DATABASE_URL
    else {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(VAR_DIR / "tessera.sqlite3"),
        "CONN_MAX_AGE": 600,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }
}
if "postgresql" in DATABASES["default"]["ENGINE"]:
    _pg_options = DATABASES["default"].setdefault("OPTIONS", {})
    _pg_options.setdefault("connect_timeout", DB_CONNECT_TIMEOUT)
    # psycopg prepares only what asks to be (Django's own cursors bind client-side, never
    # prepared); None turns preparing off altogether
    _pg_options.setdefault("prepare_threshold", 5 if DB_PREPARED_STATEMENTS else None)
    if DB_STATEMENT_TIMEOUT > 0:
        _pg_options["options"] = (
            f"{_pg_options.get('options', '')} -c statement_timeout={DB_STATEMENT_TIMEOUT * 1000}"
        ).strip()

REDIS_URL = os.environ.get("TESSERA_REDIS_URL", "").strip() or None
# A Redis call waits at most REDIS_TIMEOUT seconds and is not retried; after a failure the process
# uses the database (and in-process rate limits) for REDIS_RETRY_SECONDS, then tries Redis again
# (tessera.access.redis_breaker).
REDIS_TIMEOUT = env_float("TESSERA_REDIS_TIMEOUT", 1.0)
REDIS_RETRY_SECONDS = env_float("TESSERA_REDIS_RETRY_SECONDS", 1.0)
REDIS_CLIENT_OPTIONS = {
    "socket_timeout": REDIS_TIMEOUT,
    "socket_connect_timeout": REDIS_TIMEOUT,
    "retry": Retry(NoBackoff(), 0),
}
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's Redis cache on one connection pool per process (REDIS_CLIENT_OPTIONS),
            # shared with the version store and the rate limits (tessera.redis_pool)
            "BACKEND": "tessera.redis_pool.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("TESSERA_REDIS_PREFIX", "tessera"),
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        # a socket's read waits out channels-redis's 5-second BZPOPMIN with room
                        # to spare (redis-py's read timeout of those same 5 s killed WebSocket
                        # consumers under load: found by `make soak`); a publish is bounded by
                        # REDIS_TIMEOUT in tessera.realtime.notify
                        "address": REDIS_URL,
                        "socket_timeout": 30,
                        "socket_connect_timeout": REDIS_TIMEOUT,
                        "retry": AsyncRetry(NoBackoff(), 0),
                    }
                ]
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

AUTH_USER_MODEL = "identity.User"
AUTHENTICATION_BACKENDS = ["tessera.identity.backends.EmailBackend"]
PASSWORD_HASHERS = [
    "tessera.identity.hashers.TesseraArgon2PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# Argon2id at OWASP's recommendation (m=19 MiB, t=2, p=1; docs/decisions/0021). A hash stored
# with other parameters is re-encoded at its user's next successful login. Test runs may ask for
# cheaper parameters; production never goes below the floor.
ARGON2_TIME_COST = env_int("TESSERA_ARGON2_TIME_COST", 2)
ARGON2_MEMORY_COST = env_int("TESSERA_ARGON2_MEMORY_COST", 19456)
ARGON2_PARALLELISM = env_int("TESSERA_ARGON2_PARALLELISM", 1)
if PRODUCTION and (ARGON2_TIME_COST < 2 or ARGON2_MEMORY_COST < 19456):
    raise ConfigurationError("Argon2 parameters below the OWASP minimum (m=19 MiB, t=2)")

LANGUAGE_CODE = "en-us"
# the pages for people (tessera.web) are translated: English and German (web/locale) complete
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
# paths of the pages for people: their security headers and language (tessera.web.headers)
WEB_PAGE_PREFIXES = (
    "/signin/",
    "/signout/",
    "/reset/",
    "/invitations/",
    "/verify-email/",
    "/account/",
    "/console/",
)
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# Static assets (the admin's, Swagger UI's and ReDoc's) are served by WhiteNoise in every mode:
# collected (`tessera serve` and `tessera collectstatic` do it) with hashed, compressed files
# that browsers may cache for a year (docs/decisions/0010-static-assets.md).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("TESSERA_MAX_BODY_BYTES", 1_048_576)
# compiled policies: members kept per process, and seconds in the shared cache (memory only; see
# docs/decisions/0003-policy-cache.md — versions, not TTLs, keep them current)
POLICY_CACHE_SIZE = env_int("TESSERA_POLICY_CACHE_SIZE", 10_000)
POLICY_CACHE_TTL = env_int("TESSERA_POLICY_CACHE_TTL", 86_400)

# The admin site (/admin/): signs in through Tessera's login flow (lockout, MFA step, audit) into a
# Tessera session with these limits; platform administrators need a second factor when required.
ADMIN_REQUIRE_MFA = env_bool("TESSERA_ADMIN_REQUIRE_MFA", default=PRODUCTION)
ADMIN_SESSION_IDLE_MINUTES = env_int("TESSERA_ADMIN_SESSION_IDLE_MINUTES", 30)
ADMIN_SESSION_LIFETIME_MINUTES = env_int("TESSERA_ADMIN_SESSION_LIFETIME_MINUTES", 12 * 60)
SESSION_COOKIE_AGE = ADMIN_SESSION_LIFETIME_MINUTES * 60  # the admin site's browser session
# New tenants require a second factor of every member (settings.mfa.required "all") unless their
# creator chose otherwise: on by default in production (ASVS V6.3.3, docs/security/sessions.md).
NEW_TENANTS_REQUIRE_MFA = env_bool("TESSERA_NEW_TENANTS_REQUIRE_MFA", default=PRODUCTION)

# Cookies and transport security.
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("TESSERA_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("TESSERA_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Mail: SMTP from TESSERA_EMAIL_URL or TESSERA_EMAIL_HOST…; production refuses the console backend.
_EMAIL = email_settings(production=PRODUCTION)
EMAIL_BACKEND = _EMAIL["EMAIL_BACKEND"]
EMAIL_TIMEOUT = _EMAIL["EMAIL_TIMEOUT"]
EMAIL_HOST = _EMAIL.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _EMAIL.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _EMAIL.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _EMAIL.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _EMAIL.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _EMAIL.get("EMAIL_USE_SSL", False)
# where the file backend (TESSERA_EMAIL_BACKEND=…filebased.EmailBackend) writes: tests
EMAIL_FILE_PATH = os.environ.get("TESSERA_EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = os.environ.get("TESSERA_EMAIL_FROM", "tessera@localhost")

# Single sign-on (tessera.sso, docs/sso.md): providers' URLs must be https; plain http only to a
# loopback host outside production (a provider on this machine, as in the tests).
SSO_ALLOW_HTTP_LOOPBACK = env_bool("TESSERA_SSO_ALLOW_HTTP_LOOPBACK", default=not PRODUCTION)
SSO_HTTP_TIMEOUT_SECONDS = float(os.environ.get("TESSERA_SSO_HTTP_TIMEOUT", "5"))
# tessera.directory: the DNS TXT resolver of domain verification (a dotted path; tests swap it)
DIRECTORY_TXT_RESOLVER = "tessera.directory.dns.dns_txt_records"

# Tokens.
JWT_ISSUER = os.environ.get("TESSERA_JWT_ISSUER", PUBLIC_URL)
JWT_AUDIENCE = os.environ.get("TESSERA_JWT_AUDIENCE", "tessera")
ACCESS_TOKEN_TTL = env_int("TESSERA_ACCESS_TOKEN_TTL", 900)
REFRESH_TOKEN_TTL = env_int("TESSERA_REFRESH_TOKEN_TTL", 30 * 86400)
REFRESH_REUSE_GRACE_SECONDS = env_int("TESSERA_REFRESH_REUSE_GRACE_SECONDS", 10)

# WebSocket notifications: ticket lifetime, and how often an open socket re-checks its credential
# (it also re-checks on every permissions.changed / membership.changed push).
WS_TICKET_TTL = env_int("TESSERA_WS_TICKET_TTL", 30)
WS_RECHECK_SECONDS = env_int("TESSERA_WS_RECHECK_SECONDS", 30)
# `tessera serve` on SIGTERM: stop accepting, close WebSockets (1001, "server shutting down"), and
# give requests in flight this many seconds to finish.
SHUTDOWN_GRACE_SECONDS = env_int("TESSERA_SHUTDOWN_GRACE_SECONDS", 20)
# How long an idle keep-alive connection stays open. uvicorn's 5 s raced clients (and load
# balancers) that reuse a connection after a pause: the request met the server's close and failed
# with a reset (found by `make soak`). A load balancer's idle timeout must be below this.
KEEPALIVE_SECONDS = env_int("TESSERA_KEEPALIVE_SECONDS", 75)

# Rate limits (the `limits` library); deployments and benchmarks may raise them.
RATE_LIMIT_API = os.environ.get("TESSERA_RATE_LIMIT_API", "600/minute")
RATE_LIMIT_BULK = os.environ.get("TESSERA_RATE_LIMIT_BULK", "10/minute")
# authz/check and check/batch (one request each, whatever the batch's size): applications ask on
# every request they serve, so their class is sized for that (tessera.api.throttle)
RATE_LIMIT_DECISIONS = os.environ.get("TESSERA_RATE_LIMIT_DECISIONS", "60000/minute")
RATE_LIMIT_IP_FAILURES = os.environ.get("TESSERA_RATE_LIMIT_IP_FAILURES", "20/5minutes")
IP_BLOCK_SECONDS = env_int("TESSERA_IP_BLOCK_SECONDS", 1800)
# failed authentications of API requests per client IP (bad access tokens, API keys, refresh
# tokens, MFA codes, passwords): over this, 429 until the window moves on
RATE_LIMIT_AUTH_FAILURES = os.environ.get("TESSERA_RATE_LIMIT_AUTH_FAILURES", "50/5minutes")
TRUSTED_PROXY_COUNT = env_int("TESSERA_TRUSTED_PROXIES", 0)

# Logs: one JSON object per line in production, a line for people in development
# (TESSERA_LOG_FORMAT=json|plain); credentials in query strings are redacted in both.
LOG_FORMAT = log_format_setting(os.environ.get("TESSERA_LOG_FORMAT"), production=PRODUCTION)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"main": formatter_config(LOG_FORMAT)},
    "filters": {
        "request_id": {"()": "tessera.api.request_id.RequestIdLogFilter"},
        "log_context": {"()": "tessera.request_log.LogContextFilter"},
        "redact_credentials": {"()": "tessera.api.access_log.RedactCredentialsFilter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "main",
            "filters": ["request_id", "log_context", "redact_credentials"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("TESSERA_LOG_LEVEL", "INFO")},
    "loggers": {"django.request": {"level": "ERROR", "propagate": True}},
}

# Prometheus metrics at /metrics: readable with `Authorization: Bearer TESSERA_METRICS_TOKEN` or
# from an address in TESSERA_METRICS_ALLOW (comma-separated CIDRs); with neither set, /metrics
# answers 404 (closed by default: see docs/operations/metrics.md).
METRICS_TOKEN = os.environ.get("TESSERA_METRICS_TOKEN", "").strip() or None
if METRICS_TOKEN is not None and len(METRICS_TOKEN) < 24:
    raise ConfigurationError("TESSERA_METRICS_TOKEN must be at least 24 random characters")
METRICS_ALLOW = cidr_list("TESSERA_METRICS_ALLOW", os.environ.get("TESSERA_METRICS_ALLOW", ""))
