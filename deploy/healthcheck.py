"""The container's HEALTHCHECK: GET /healthz on this container, sent as the load balancer sends
it (a Host from TESSERA_ALLOWED_HOSTS, `X-Forwarded-Proto: https`), so production's host check
and https redirect apply unchanged. Exit 0 when it answers 200."""

import os
import sys
import urllib.error
import urllib.request

PORT = os.environ.get("TESSERA_HEALTHCHECK_PORT", "8000")
TIMEOUT = float(os.environ.get("TESSERA_HEALTHCHECK_TIMEOUT", "2"))


def main() -> int:
    hosts = [h.strip().lstrip(".") for h in os.environ.get("TESSERA_ALLOWED_HOSTS", "").split(",")]
    host = next((h for h in hosts if h), "localhost")
    request = urllib.request.Request(  # noqa: S310 - a fixed http URL on this container
        f"http://127.0.0.1:{PORT}/healthz",
        headers={"Host": host, "X-Forwarded-Proto": "https"},
    )
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via HTTP_PROXY
    try:
        with direct.open(request, timeout=TIMEOUT) as answer:
            return 0 if answer.status == 200 else 1
    except (OSError, urllib.error.URLError):
        return 1


if __name__ == "__main__":
    sys.exit(main())
