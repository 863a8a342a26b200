"""ASGI entry point: HTTP through Django's WSGI handler in a thread pool, WebSockets via Channels.

Tessera's HTTP views are synchronous (ORM-bound). Under Django's own ASGI handler every request
runs in a fresh thread context, so it opens and closes a new database connection and a new
executor thread per request. Serving HTTP through the WSGI handler on a fixed pool of threads
(a2wsgi) keeps persistent per-thread connections: about 2.7× the requests per second on one
worker (docs/decisions/0005-http-through-wsgi-pool.md). WebSockets stay native ASGI (Channels).

In front of the bridge, the fast path (tessera.fastpath) answers the hot API routes through the
same middlewares and views without the bridge's and the URL resolver's overhead; it shares the
bridge's thread pool (and so its database connections). `TESSERA_FAST_PATH=0` turns it off
(docs/decisions/0020-fast-path.md).
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tessera.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402

django_wsgi = get_wsgi_application()  # sets Django up: the imports below load models

from a2wsgi import WSGIMiddleware  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from tessera.fastpath.app import http_application  # noqa: E402
from tessera.realtime.routing import websocket_urlpatterns  # noqa: E402

# the stubs disagree, not the objects: WSGIHandler answers an HttpResponse (an iterable of bytes)
# that django-stubs types as HttpResponseBase
django_http = WSGIMiddleware(django_wsgi, workers=settings.HTTP_THREADS)  # type: ignore[arg-type]
# (and a2wsgi's scope and event types are narrower TypedDicts than the fast path's mappings)
http = http_application(django_http, executor=django_http.executor)  # type: ignore[arg-type]

application = ProtocolTypeRouter(
    {
        "http": http,
        # URLRouter takes the path() routes that channels-stubs calls _ExtendedURLPattern (see
        # tessera.realtime.routing)
        "websocket": URLRouter(websocket_urlpatterns),  # type: ignore[arg-type]
    }
)
