"""WebSocket URL routes."""

from django.urls import path

from tessera.realtime.consumers import NotificationConsumer

websocket_urlpatterns = [path("ws/notifications/", NotificationConsumer.as_asgi())]
