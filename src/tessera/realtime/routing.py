"""WebSocket URL routes."""

from django.urls import path

from tessera.realtime.consumers import NotificationConsumer

websocket_urlpatterns = [
    # django-stubs types path()'s view as an HTTP view; Channels routes an ASGI app through the
    # same path() (its documented use), which channels-stubs calls _ExtendedURLPattern
    path("ws/notifications/", NotificationConsumer.as_asgi()),  # type: ignore[arg-type]
]
