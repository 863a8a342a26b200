"""`tessera serve`: collect the static assets, then the ASGI app under uvicorn.

The workers report their metrics together: `PROMETHEUS_MULTIPROC_DIR` points at a directory
under the var dir, emptied at every start (see tessera.metrics). uvicorn's own access lines are
off: Tessera writes one access line per request itself (tessera.request_log), in the log format
of the settings, and uvicorn's other lines use that format too.
"""

import os
import shutil
from pathlib import Path

import uvicorn
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from tessera.api.access_log import uvicorn_log_config
from tessera.metrics import MULTIPROC_ENV

METRICS_DIR_NAME = "prometheus-multiproc"


def metrics_dir_prepare(var_dir: Path) -> Path:
    """An empty directory for the workers' metric files, named in the environment they inherit."""
    path = Path(var_dir) / METRICS_DIR_NAME
    shutil.rmtree(path, ignore_errors=True)  # values of an earlier run are not this run's
    path.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(path)
    return path


class Command(BaseCommand):
    help = "Serve Tessera with uvicorn (HTTP and WebSocket)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=1)
        parser.add_argument("--log-level", default="info")

    def handle(self, *args, host, port, workers, log_level, **options):
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
                log_level=log_level,
                # credentials in query strings are redacted; the settings' format
                log_config=uvicorn_log_config(log_format=settings.LOG_FORMAT),
                access_log=False,  # tessera.request_log writes the access lines
                proxy_headers=False,
                server_header=False,
            )
        finally:
            shutil.rmtree(metrics_dir, ignore_errors=True)
