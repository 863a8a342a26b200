"""The one place where the fast path reports a finished request (metrics and logs hook in here).

Requests the fast path answers do not pass the skipped Django middlewares (tessera.fastpath.chain)
but do pass every other one, so a metrics or logging middleware in `settings.MIDDLEWARE` sees them
too; this hook is for what only the fast path knows (its route and its own wall time).
"""

from __future__ import annotations

from tessera.authn.principal import Principal


def request_finished(
    route: str, method: str, status: int, seconds: float, principal: Principal | None
) -> None:
    """Called once per request the fast path answered, after the answer was sent."""
    return None
