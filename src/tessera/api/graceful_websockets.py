"""uvicorn's WebSocket protocol, closing open sockets with 1001 "going away" and a reason when the
server shuts down (SIGTERM), where uvicorn's own sends 1012 without one.

`tessera serve` passes it to uvicorn (`ws=`), in every worker. On SIGTERM uvicorn stops
accepting connections, calls `shutdown()` on each open one — here: the close frame
`1001 server shutting down`, so a client knows to reconnect (to another instance) rather than
suspect its credential (4401) — and waits up to `SHUTDOWN_GRACE_SECONDS` for HTTP requests in
flight to finish (docs/operations/failures.md).
"""

from __future__ import annotations

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

GOING_AWAY = 1001
SHUTDOWN_REASON = "server shutting down"


class GoingAwayWebSocketProtocol(WebSocketsSansIOProtocol):
    def shutdown(self) -> None:
        if self.close_sent or not self.handshake_complete:
            super().shutdown()
            return
        self.stop_keepalive()
        self.queue.put_nowait({"type": "websocket.disconnect", "code": GOING_AWAY})
        self.conn.send_close(GOING_AWAY, SHUTDOWN_REASON)
        self.close_sent = True
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.transport.close()
