"""The served ASGI application answers HTTP through the WSGI thread pool."""

import httpx
import pytest

from tessera.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)


async def test_http_is_served_with_request_ids_and_problem_errors():
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        ok = await http.get("/healthz")
        missing = await http.get("/api/v1/nothing")
    assert ok.status_code == 200 and ok.headers["X-Request-ID"]
    assert missing.status_code == 404
    assert missing.headers["Content-Type"] == "application/problem+json"
