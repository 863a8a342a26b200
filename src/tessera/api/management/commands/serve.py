"""`tessera serve`: collect the static assets, then the ASGI app under uvicorn (uvloop, httptools).

Workers: `--workers`, else `TESSERA_WORKERS`, else one per core — when Redis is configured. The
lockout and rate-limit counters and the WebSocket channel layer live in Redis then; without it
they live in each process, so several workers would each count failed logins on their own (an
attacker would get as many tries as there are workers) and a change made in one worker would not
reach the sockets held by another. Without Redis the default is therefore one worker (one worker
still uses both cores for logins: Argon2 hashes in the WSGI pool's threads, outside the GIL).
See docs/decisions/0021-login-cost-and-serving.md.
"""

from __future__ import annotations

import os

import uvicorn
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from tessera.api.access_log import uvicorn_log_config

SINGLE_PROCESS_NOTE = (
    "no TESSERA_REDIS_URL: one worker (lockout counters, rate limits and WebSocket pushes are "
    "kept in the process; set TESSERA_REDIS_URL to serve with one worker per core)"
)


def default_workers() -> int:
    """`TESSERA_WORKERS`, else one per core with Redis, else one."""
    configured = os.environ.get("TESSERA_WORKERS", "").strip()
    if configured:
        try:
            return int(configured)
        except ValueError:
            raise CommandError(f"TESSERA_WORKERS must be a number, got {configured!r}") from None
    if not settings.REDIS_URL:
        return 1
    return max(1, os.cpu_count() or 1)


class Command(BaseCommand):
    help = "Serve Tessera with uvicorn (HTTP and WebSocket), one worker per core with Redis."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="processes (default: TESSERA_WORKERS, else one per core with Redis, else 1)",
        )
        parser.add_argument("--log-level", default="info")

    def handle(self, *args, host, port, workers, log_level, **options):
        chosen = workers is not None or bool(os.environ.get("TESSERA_WORKERS", "").strip())
        workers = default_workers() if workers is None else workers
        if workers < 1:
            raise CommandError("--workers must be at least 1")
        if not settings.REDIS_URL:
            if workers > 1:
                self.stderr.write(
                    f"warning: {workers} workers without TESSERA_REDIS_URL: each process keeps "
                    "its own lockout and rate-limit counters and WebSocket pushes"
                )
            elif not chosen and (os.cpu_count() or 1) > 1:
                self.stdout.write(SINGLE_PROCESS_NOTE)
        # Hashed, compressed static files, so that the admin and /api/docs render as in production;
        # unchanged files are not copied again.
        call_command("collectstatic", interactive=False, verbosity=0)

        uvicorn.run(
            "tessera.asgi:application",
            host=host,
            port=port,
            workers=workers,
            loop="uvloop",
            http="httptools",
            log_level=log_level,
            log_config=uvicorn_log_config(),  # credentials in query strings are redacted
            proxy_headers=False,
            server_header=False,
        )
