"""Where a row's server CPU goes, per layer.

py-spy samples the server (`--gil`: at each tick, the stack of the thread that holds the GIL, if
one does) and each sample goes to the layer of its innermost frame that belongs to one (`LAYERS`,
first match wins). A frame in no layer (the standard library's `typing`, `functools`, `re`, …)
passes its sample to its caller, so a sample lands where the work was asked for: `json.dumps`
called by django-ninja is JSON, the ORM called by authentication is the ORM. A layer's samples
over the rate are its time running Python, per request.

What runs without the GIL is not in those samples, and is measured instead, from /proc: the
kernel's share of the server's CPU (system time: sockets, polling, waking threads), and the rest
of the user time (C code that releases the GIL: Argon2's hash, libpq sending and receiving). The
three add up to the server CPU per request measured over the profiled run. (Sampling every
running thread instead counts threads waiting on PostgreSQL or Redis as running: their samples
came to two or three times the CPU the process used.)
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# (layer, file prefixes as py-spy prints them: relative to the sys.path entry)
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("PostgreSQL driver (psycopg)", ("psycopg/", "psycopg_binary/", "psycopg_pool/")),
    ("SQLite driver", ("sqlite3/",)),
    ("Django ORM (compile queries, build rows)", ("django/db/",)),
    ("Redis client", ("redis/",)),
    ("rate limiting", ("limits/", "tessera/api/throttle.py", "tessera/authn/limits_fallback.py")),
    ("password hash (Argon2id)", ("argon2/", "django/contrib/auth/hashers.py")),
    ("JWT and crypto", ("jwt/", "cryptography/", "hmac.py", "secrets.py")),
    ("policy engine", ("tessera/engine/",)),
    ("django-ninja + pydantic (parse, validate, serialise)", ("ninja/", "pydantic/")),
    ("JSON", ("json/", "orjson/")),
    (
        "metrics and access log",
        (
            "prometheus_client/",
            "tessera/metrics.py",
            "tessera/api/request_metrics.py",
            "tessera/request_log.py",
            "tessera/log_format.py",
            "logging/",
        ),
    ),
    ("authentication (tokens, sessions, API keys)", ("tessera/authn/",)),
    ("tenant resolution", ("tessera/tenancy/",)),
    ("versions and policy cache", ("tessera/access/",)),
    ("fast path (routing, ASGI ↔ thread)", ("tessera/fastpath/",)),
    ("Tessera views, services, middleware", ("tessera/",)),
    (
        "Django request, response, middleware, templates",
        ("django/", "corsheaders/", "whitenoise/", "asgiref/"),
    ),
    ("thread hand-off (executor, a2wsgi)", ("concurrent/futures/", "threading.py", "a2wsgi/")),
    (
        "HTTP server and event loop (uvicorn, httptools, asyncio)",
        ("uvicorn/", "httptools/", "asyncio/", "uvloop/", "channels/"),
    ),
)
OTHER = "other"
FRAME = re.compile(r"\((?P<file>[^():]+):\d+\)$")


KERNEL = "kernel (system CPU: sockets, polling, thread wake-ups)"
OUTSIDE_GIL = "user CPU outside the GIL (Argon2, libpq I/O, other C code)"


@dataclass(frozen=True)
class Share:
    layer: str
    samples: int  # GIL samples (0 for the measured layers)
    cpu_ms: float  # per request


def layer_of(file: str) -> str | None:
    for layer, prefixes in LAYERS:
        if file.startswith(prefixes):
            return layer
    return None


def classify(frames: list[str]) -> str:
    """The layer of one sampled stack (frames root first, as py-spy writes them)."""
    for frame in reversed(frames):
        found = FRAME.search(frame)
        if found:
            layer = layer_of(found["file"])
            if layer is not None:
                return layer
    return OTHER


def count_raw(lines: Iterable[str]) -> Counter[str]:
    """Samples per layer from py-spy's `--format raw` output (`frame;frame;… count` lines)."""
    counts: Counter[str] = Counter()
    for line in lines:
        stack, _, number = line.rstrip("\n").rpartition(" ")
        if not stack or not number.isdigit():
            continue
        frames = stack.split(";")
        if frames and frames[0].startswith("process "):
            frames = frames[1:]
        counts[classify(frames)] += int(number)
    return counts


def shares(
    counts: Counter[str], *, rate: float, requests: int, cpu_ms: float, system_ms: float
) -> list[Share]:
    """The layers' CPU per request, the two measured ones included, the largest first."""
    per_sample = 1000 / rate / max(requests, 1)
    layers = [Share(layer, n, n * per_sample) for layer, n in counts.items()]
    python_ms = sum(share.cpu_ms for share in layers)
    layers.append(Share(KERNEL, 0, system_ms))
    layers.append(Share(OUTSIDE_GIL, 0, max(0.0, cpu_ms - system_ms - python_ms)))
    return sorted((s for s in layers if s.cpu_ms > 0), key=lambda s: -s.cpu_ms)


class Sampler:
    """py-spy recording the GIL holder of a server's processes (uvicorn's workers included) while
    a load runs."""

    RATE = 97  # samples per second: py-spy keeps up, and costs the server little

    def __init__(self, pid: int, seconds: float, output: Path) -> None:
        self.output = output
        self.process = subprocess.Popen(  # noqa: S603 - py-spy from our own virtualenv
            [
                str(py_spy()),
                "record",
                "--pid",
                str(pid),
                "--subprocesses",
                "--gil",
                "--format",
                "raw",
                "--rate",
                str(self.RATE),
                "--duration",
                str(max(1, round(seconds))),
                "--output",
                str(output),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def counts(self) -> Counter[str]:
        said, _ = self.process.communicate(timeout=120)
        if self.process.returncode != 0 or not self.output.exists():
            raise RuntimeError(f"py-spy failed ({self.process.returncode}): {said[-1000:]}")
        return count_raw(self.output.read_text().splitlines())


def py_spy() -> Path:
    import sys

    found = Path(sys.executable).parent / "py-spy"
    if not found.exists():
        raise RuntimeError("py-spy is missing from the virtualenv (make venv installs it)")
    return found
