"""ASGI entry point of the Django example."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "docservice.settings")
application = get_asgi_application()
