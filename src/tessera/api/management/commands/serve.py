"""`tessera serve`: collect the static assets, then the ASGI app under uvicorn."""

import uvicorn
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from tessera.api.access_log import uvicorn_log_config


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

        uvicorn.run(
            "tessera.asgi:application",
            host=host,
            port=port,
            workers=workers,
            log_level=log_level,
            log_config=uvicorn_log_config(),  # credentials in query strings are redacted
            proxy_headers=False,
            server_header=False,
            # SIGTERM: in-flight requests get SHUTDOWN_GRACE_SECONDS, sockets a 1001 close
            timeout_graceful_shutdown=settings.SHUTDOWN_GRACE_SECONDS,
            ws="tessera.api.graceful_websockets:GoingAwayWebSocketProtocol",
        )
