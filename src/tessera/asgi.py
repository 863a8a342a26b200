"""ASGI entry point: HTTP through Django, WebSockets through Channels."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tessera.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

application = get_asgi_application()
