"""The Python client SDK: cost of the FastAPI dependency, and requests/s of the example app.

1. In process (no network): local access-token verification, and what `current_principal` and
   `require_permission` (decision-cache hit) add to a FastAPI request, measured as the difference
   with an unprotected endpoint of the same app; each with the full signature check
   (`remember=0`) and with the token remembered from an earlier request (the default: a token
   seen again skips the signature check until it expires).
2. Over loopback: a real Tessera (`tessera serve`, SQLite, one worker) and the FastAPI example
   app under uvicorn (one worker); requests/s and p50 latency of its unprotected `/health`, of
   `/me` (local verification only), and of the protected `/documents` (`require_permission`, one
   decision from Tessera per request) with the decision cache off and on (TTL 5 s).

The measurements run in a child interpreter that has `tessera-client[fastapi]` and uvicorn:
$TESSERA_CLIENT_PYTHON, else this one when it has them, else `.tools/client-venv` (created once
with pip from clients/python). Bounded: about 4 × 3 s of load plus start-up.
"""

import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

ROOT = Path(__file__).resolve().parent.parent
CLIENT = ROOT / "clients" / "python"
SECONDS = float(os.environ.get("TESSERA_BENCH_CLIENT_SECONDS", "3"))
CONCURRENCY = int(os.environ.get("TESSERA_BENCH_CLIENT_CONCURRENCY", "16"))

NOTES = (
    "In-process costs are medians over thousands of ASGI requests (httpx.ASGITransport), "
    "reported as the difference with an unprotected endpoint of the same app. Requests/s: "
    f"{CONCURRENCY} keep-alive connections for {SECONDS:.0f} s per endpoint from one asyncio "
    "load generator over loopback, against the FastAPI example (1 uvicorn worker) talking to "
    "`tessera serve` (1 worker, SQLite); all three processes share the machine's cores, so the "
    "numbers compare endpoints rather than bound the service. Cache on = 5 s TTL: a revoked "
    "permission may be served for up to 5 s unless the app subscribes to permissions.changed."
)


# -- the parent: find or make an interpreter with the SDK, run the child -------------------------


def _has_sdk(python: str) -> bool:
    probe = "import fastapi, uvicorn, tessera_client, cryptography"
    done = subprocess.run([python, "-c", probe], capture_output=True, timeout=60, check=False)
    return done.returncode == 0


def _client_python() -> str:
    explicit = os.environ.get("TESSERA_CLIENT_PYTHON")
    if explicit:
        return explicit
    if _has_sdk(sys.executable):
        return sys.executable
    venv = ROOT / ".tools" / "client-venv"
    python = venv / "bin" / "python"
    if not python.exists() or not _has_sdk(str(python)):
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-e",
                f"{CLIENT}[fastapi]",
                "uvicorn",
                "cryptography",
            ],
            check=True,
            timeout=600,
        )
    return str(python)


def run() -> dict:
    python = _client_python()
    done = subprocess.run(
        [python, str(Path(__file__).resolve()), "--child"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench_client child failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- the child -----------------------------------------------------------------------------------


def _median_us(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1e6, 1)


def _in_process() -> dict:
    import httpx
    import jwt
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from fastapi import Depends, FastAPI
    from jwt.algorithms import OKPAlgorithm
    from tessera_client import AsyncTesseraClient, KeySet, TesseraClient, TokenVerifier
    from tessera_client.fastapi import current_principal, require_permission, setup

    key = ed25519.Ed25519PrivateKey.generate()
    jwk = {**OKPAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": "k1", "alg": "EdDSA"}
    issuer = "http://tessera.bench"
    now = int(time.time())
    claims = {"sub": "u1", "tid": "t1", "sid": "s1", "jti": "j", "iat": now, "exp": now + 3600}
    token = jwt.encode(
        {**claims, "iss": issuer, "aud": "tessera"},
        key,
        algorithm="EdDSA",
        headers={"kid": "k1", "typ": "at+jwt"},
    )

    def tessera(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/.well-known/jwks.json":
            return httpx.Response(200, json={"keys": [jwk]})
        return httpx.Response(200, json={"allowed": True})

    def verify_cost(remember: int) -> float:
        verifier = TokenVerifier(issuer=issuer, any_tenant=True, remember=remember)
        client = TesseraClient(issuer, verifier=verifier, transport=httpx.MockTransport(tessera))
        client.verify_token(token)
        samples = []
        for _ in range(5000):
            started = time.perf_counter()
            client.verify_token(token)
            samples.append(time.perf_counter() - started)
        client.close()
        return _median_us(samples)

    def build(remember: int) -> tuple[FastAPI, AsyncTesseraClient]:
        client = AsyncTesseraClient(
            issuer,
            verifier=TokenVerifier(
                issuer=issuer, any_tenant=True, keys=KeySet(), remember=remember
            ),
            decision_cache=60,
            transport=httpx.MockTransport(tessera),
        )
        app = FastAPI()
        setup(app, client)
        who_dep = Depends(current_principal)
        doc_dep = Depends(require_permission("document", "read"))

        @app.get("/open")
        async def open_endpoint():
            return {"ok": True}

        @app.get("/who")
        async def who(principal: Annotated[Any, who_dep]):
            return {"ok": True}

        @app.get("/doc")
        async def doc(principal: Annotated[Any, doc_dep]):
            return {"ok": True}

        return app, client

    async def measure(remember: int) -> dict[str, float]:
        app, client = build(remember)
        headers = {"Authorization": f"Bearer {token}"}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
            times: dict[str, list[float]] = {"/open": [], "/who": [], "/doc": []}
            for path in times:  # warm up (JWKS fetched, decision cached)
                for _ in range(200):
                    await http.get(path, headers=headers)
            for _ in range(3000):
                for path, bucket in times.items():
                    started = time.perf_counter()
                    response = await http.get(path, headers=headers)
                    bucket.append(time.perf_counter() - started)
                    assert response.status_code == 200, response.text
        await client.aclose()
        return {path: statistics.median(bucket) for path, bucket in times.items()}

    def extra_us(medians: dict[str, float], path: str) -> float:
        return round((medians[path] - medians["/open"]) * 1e6, 1)

    full = asyncio.run(measure(remember=0))
    remembered = asyncio.run(measure(remember=4096))
    return {
        "verify_token_us": verify_cost(remember=0),
        "verify_token_remembered_us": verify_cost(remember=4096),
        "asgi_unprotected_request_us": round(full["/open"] * 1e6, 1),
        "current_principal_dependency_us": extra_us(full, "/who"),
        "current_principal_dependency_remembered_us": extra_us(remembered, "/who"),
        "require_permission_cache_hit_us": extra_us(full, "/doc"),
        "require_permission_cache_hit_remembered_us": extra_us(remembered, "/doc"),
    }


async def _load(port: int, path: str, token: str | None, seconds: float) -> tuple[float, float]:
    """Requests/s and p50 latency (ms) of GET `path` over `CONCURRENCY` keep-alive connections."""
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}\r\n".encode()
    latencies: list[float] = []
    failures = 0
    first_failure = b""
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal failures, first_failure
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < stop:
                started = time.perf_counter()
                writer.write(request)
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                body = await asyncio.wait_for(reader.readexactly(length), 10)
                if not head.startswith(b"HTTP/1.1 200"):
                    failures += 1
                    first_failure = first_failure or head + body
                latencies.append(time.perf_counter() - started)
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{failures} non-200 answers from {path}: {first_failure[:600]!r}")
    return len(latencies) / elapsed, statistics.median(latencies) * 1000


def _over_http() -> dict:
    sys.path.insert(0, str(CLIENT / "tests"))
    from tessera_harness import PASSWORD, ExampleApp, TesseraServer

    if not TesseraServer.available():
        return {"http": "skipped: no Tessera virtualenv (make venv)"}
    workdir = Path(tempfile.mkdtemp(prefix="bench-client-"))
    server = TesseraServer(workdir)
    apps: list[ExampleApp] = []
    try:
        server.cli("migrate", "--no-input", "-v", "0")
        server.cli(
            "init", "--tenant", "bench", "--admin-email", "a@bench.test", "--admin-password",
            PASSWORD,
        )  # fmt: skip
        server.start()
        missing = server.missing()
        if missing:
            return {"http": "skipped: Tessera lacks " + ", ".join(missing)}
        login = server.login("a@bench.test", tenant="bench")
        token, tenant_id = login["access_token"], str(login["tenant"]["id"])
        env = {"TESSERA_URL": server.url, "TESSERA_TENANT_IDS": tenant_id}
        cache_off = ExampleApp("fastapi", workdir, env).start()
        apps.append(cache_off)
        cache_on = ExampleApp(
            "fastapi", workdir, {**env, "TESSERA_DECISION_CACHE_TTL": "5"}
        ).start()
        apps.append(cache_on)
        results: dict[str, float] = {}
        runs = [
            ("unprotected", cache_off.port, "/health", None),
            ("principal_only", cache_off.port, "/me", token),
            ("protected_cache_off", cache_off.port, "/documents", token),
            ("protected_cache_on", cache_on.port, "/documents", token),
        ]
        for name, port, path, auth in runs:
            asyncio.run(_load(port, path, auth, 0.5))  # warm-up
            rps, p50 = asyncio.run(_load(port, path, auth, SECONDS))
            results[f"rps_{name}"] = round(rps, 1)
            results[f"p50_ms_{name}"] = round(p50, 2)
        return results
    finally:
        for app in apps:
            app.stop()
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def _child() -> None:
    numbers = _in_process()
    numbers.update(_over_http())
    print(json.dumps(numbers))


if __name__ == "__main__":
    if "--child" in sys.argv:
        _child()
    else:
        print(json.dumps(run(), indent=2))
