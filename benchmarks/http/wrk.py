"""Drive one workload with wrk (Debian package `wrk`) and read its JSON summary.

The Lua scripts in ./lua set the request (static.lua: method, body file and headers from the
environment; refresh.lua: refresh-token rotation) and print, from done(), one `WRK_JSON {...}`
line with the counts and latency percentiles. The generator's own CPU time comes from
getrusage(RUSAGE_CHILDREN) around the run.
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

LUA = Path(__file__).resolve().parent / "lua"
MARK = "WRK_JSON "


class WrkError(RuntimeError):
    """wrk is missing, failed, or printed no summary."""


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    errors: int  # socket errors, timeouts and answers ≥ 400
    bad_answers: int  # answers the script refused (refresh: no new token)
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    generator_cpu_seconds: float

    @property
    def req_per_s(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_binary() -> str:
    found = shutil.which("wrk") or ("/usr/bin/wrk" if Path("/usr/bin/wrk").exists() else None)
    if found is None:
        raise WrkError("wrk is not installed (Debian/Ubuntu: apt-get install -y wrk)")
    return found


def parse_summary(stdout: str) -> dict:
    """The JSON object of the `WRK_JSON` line wrk's done() printed."""
    for line in reversed(stdout.splitlines()):
        if line.startswith(MARK):
            return json.loads(line[len(MARK) :])
    raise WrkError(f"wrk printed no {MARK.strip()} line:\n{stdout[-2000:]}")


def result_from(summary: dict, generator_cpu_seconds: float) -> WrkResult:
    errors = sum(
        summary[f"errors_{kind}"] for kind in ("connect", "read", "write", "status", "timeout")
    )
    return WrkResult(
        requests=summary["requests"],
        seconds=summary["duration_us"] / 1e6,
        errors=errors,
        bad_answers=summary.get("bad_answers", 0),
        p50_ms=summary["p50_us"] / 1000,
        p90_ms=summary["p90_us"] / 1000,
        p99_ms=summary["p99_us"] / 1000,
        max_ms=summary["latency_max_us"] / 1000,
        generator_cpu_seconds=generator_cpu_seconds,
    )


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_wrk(
    url: str,
    *,
    connections: int,
    seconds: float,
    script: str = "static.lua",
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body_file: Path | None = None,
    tokens_file: Path | None = None,
    timeout_s: float = 30.0,
) -> WrkResult:
    """Run wrk against `url` for `seconds` with `connections` keep-alive connections."""
    threads = min(2, connections)
    env = {
        "PATH": "/usr/bin:/bin",
        "BENCH_LUA_DIR": str(LUA),
        "BENCH_METHOD": method,
        "BENCH_HEADERS": "\n".join(f"{k}: {v}" for k, v in (headers or {}).items()),
        "BENCH_BODY_FILE": str(body_file or ""),
        "BENCH_TOKENS_FILE": str(tokens_file or ""),
        "BENCH_THREADS": str(threads),
    }
    command = [
        wrk_binary(),
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={max(1, round(seconds))}s",
        f"--timeout={timeout_s:.0f}s",
        f"--script={LUA / script}",
        url,
    ]
    before = _children_cpu()
    done = subprocess.run(  # noqa: S603 - wrk with our arguments
        command, env=env, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    cpu = _children_cpu() - before
    if done.returncode != 0:
        raise WrkError(f"wrk exited {done.returncode}: {done.stderr[-2000:]}")
    return result_from(parse_summary(done.stdout), cpu)
