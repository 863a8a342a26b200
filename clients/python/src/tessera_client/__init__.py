"""Tessera client SDK: verify access tokens locally, ask Tessera for decisions.

    from tessera_client import TesseraClient, Resource

    tessera = TesseraClient("https://iam.example.com")
    principal = tessera.verify_token(token)              # local, no request (JWKS cached)
    if tessera.check("invoice:approve", Resource("invoice", id="42"), principal=principal):
        ...

FastAPI dependencies live in `tessera_client.fastapi`, Django middleware and decorators in
`tessera_client.django`, the notification subscriber in `tessera_client.realtime`, the refreshing
token holders in `tessera_client.refresh`, test helpers in `tessera_client.testing`.
"""

__version__ = "0.1.0"

from .cache import DecisionCache  # noqa: E402
from .client import AsyncTesseraClient, TesseraClient, bearer_token  # noqa: E402
from .errors import (  # noqa: E402
    TesseraError,
    TesseraForbidden,
    TesseraNotFound,
    TesseraRateLimited,
    TesseraUnauthenticated,
    TesseraUnavailable,
)
from .models import Check, Decision, Explanation, FieldAccess, Me, Principal, Resource  # noqa: E402
from .refresh import AsyncTokenHolder, MemoryTokenStore, TokenHolder, Tokens  # noqa: E402
from .tokens import ALGORITHMS, KeySet, TokenVerifier  # noqa: E402

__all__ = [
    "ALGORITHMS",
    "AsyncTesseraClient",
    "AsyncTokenHolder",
    "Check",
    "Decision",
    "DecisionCache",
    "Explanation",
    "FieldAccess",
    "KeySet",
    "Me",
    "MemoryTokenStore",
    "Principal",
    "Resource",
    "TesseraClient",
    "TesseraError",
    "TesseraForbidden",
    "TesseraNotFound",
    "TesseraRateLimited",
    "TesseraUnauthenticated",
    "TesseraUnavailable",
    "TokenHolder",
    "TokenVerifier",
    "Tokens",
    "bearer_token",
]
