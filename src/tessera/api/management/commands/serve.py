"""`tessera serve`: collect the static assets, then the ASGI app under uvicorn (uvloop, httptools).

Workers: `--workers`, else `TESSERA_WORKERS`, else one per core — when Redis is configured. The
lockout and rate-limit counters and the WebSocket channel layer live in Redis then; without it
they live in each process, so several workers would each count failed logins on their own (an
attacker would get as many tries as there are workers) and a change made in one worker would not
reach the sockets held by another. Without Redis the default is therefore one worker (one worker
still uses both cores for logins: Argon2 hashes in the WSGI pool's threads, outside the GIL).
See docs/decisions/0021-login-cost-and-serving.md.

The workers report their metrics together: `PROMETHEUS_MULTIPROC_DIR` points at a directory
under the var dir, emptied at every start (see tessera.metrics). uvicorn's own access lines are
off: Tessera writes one access line per request itself (tessera.request_log), in the log format
of the settings, and uvicorn's other lines use that format too.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import uvicorn
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from tessera.api.access_log import uvicorn_log_config
from tessera.metrics import MULTIPROC_ENV

logger = logging.getLogger(__name__)  # in the settings' log format, as every line of `serve`

METRICS_DIR_NAME = "prometheus-multiproc"


def metrics_dir_prepare(var_dir: Path) -> Path:
    """An empty directory for the workers' metric files, named in the environment they inherit."""
    path = Path(var_dir) / METRICS_DIR_NAME
    shutil.rmtree(path, ignore_errors=True)  # values of an earlier run are not this run's
    path.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(path)
    return path


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
                logger.warning(
                    "%s workers without TESSERA_REDIS_URL: each process keeps its own lockout "
                    "and rate-limit counters and WebSocket pushes",
                    workers,
                )
            elif not chosen and (os.cpu_count() or 1) > 1:
                logger.info(SINGLE_PROCESS_NOTE)
        # Hashed, compressed static files, so that the admin and /api/docs render as in production;
        # unchanged files are not copied again.
        call_command("collectstatic", interactive=False, verbosity=0)

        metrics_dir = metrics_dir_prepare(settings.VAR_DIR)
        try:
            uvicorn.run(
                "tessera.asgi:application",
                host=host,
                port=port,
                workers=workers,
                loop="uvloop",
                http="httptools",
                log_level=log_level,
                # credentials in query strings are redacted; the settings' format
                log_config=uvicorn_log_config(log_format=settings.LOG_FORMAT),
                access_log=False,  # tessera.request_log writes the access lines
                proxy_headers=False,
                server_header=False,
                # SIGTERM: in-flight requests get SHUTDOWN_GRACE_SECONDS, sockets a 1001 close
                timeout_graceful_shutdown=settings.SHUTDOWN_GRACE_SECONDS,
                timeout_keep_alive=settings.KEEPALIVE_SECONDS,
                ws="tessera.api.graceful_websockets:GoingAwayWebSocketProtocol",
            )
        finally:
            shutil.rmtree(metrics_dir, ignore_errors=True)
