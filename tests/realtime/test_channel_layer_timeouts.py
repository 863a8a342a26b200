"""The Redis channel layer's sockets wait longer than its blocking reads: channels-redis blocks 5 s
in BZPOPMIN, and with redis-py's default read timeout (the same 5 s) a busy event loop raised
"Timeout reading" inside the WebSocket consumer and dropped the socket (seen in `make soak`)."""

from __future__ import annotations

import asyncio

import pytest
from channels.layers import get_channel_layer

pytestmark = pytest.mark.redis


def test_the_socket_read_timeout_outlasts_the_blocking_pop():
    layer = get_channel_layer()
    pool = layer.create_pool(0)
    assert pool.connection_kwargs["socket_timeout"] > layer.brpop_timeout + 5


def test_a_listener_survives_a_quiet_channel_longer_than_the_blocking_pop():
    async def listen_then_hear():
        layer = get_channel_layer()
        channel = await layer.new_channel()
        receive = asyncio.ensure_future(layer.receive(channel))
        await asyncio.sleep(layer.brpop_timeout + 1)  # one blocking pop ran empty
        await layer.send(channel, {"type": "notify", "payload": {"n": 1}})
        message = await asyncio.wait_for(receive, timeout=layer.brpop_timeout + 10)
        return message

    assert asyncio.run(listen_then_hear())["payload"] == {"n": 1}
