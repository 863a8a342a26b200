"""Tessera client SDK: verify access tokens locally, ask Tessera for decisions.

    from tessera_client import TesseraClient, Resource

    tessera = TesseraClient("https://iam.example.com")
    principal = tessera.verify_token(token)              # local, no request (JWKS cached)
    if tessera.check("invoice:approve", Resource("invoice", id="42"), principal=principal):
        ...

FastAPI dependencies live in `tessera_client.fastapi`, Django middleware and decorators in
`tessera_client.django`, the notification subscriber in `tessera_client.realtime`.
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
from .tokens import ALGORITHMS, KeySet, TokenVerifier  # noqa: E402

__all__ = [
    "ALGORITHMS",
    "AsyncTesseraClient",
    "Check",
    "Decision",
    "DecisionCache",
    "Explanation",
    "FieldAccess",
    "KeySet",
    "Me",
    "Principal",
    "Resource",
    "TesseraClient",
    "TesseraError",
    "TesseraForbidden",
    "TesseraNotFound",
    "TesseraRateLimited",
    "TesseraUnauthenticated",
    "TesseraUnavailable",
    "TokenVerifier",
    "bearer_token",
]
