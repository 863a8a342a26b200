"""The HTTP suite's table (printed, and in docs/benchmarks.md) and its benchmarks.json entry."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

from benchmarks.http.rows import ROWS
from benchmarks.http.suite import Profile, RowResult

ENTRY = "bench_http"
TITLE = "Over real HTTP"
HEADER = (
    "| workload | db | conns | req/s | p50 ms | p99 ms | server CPU ms/req (cores) | "
    "wrk CPU ms/req (cores) | errors | target | met |"
)
ORDER = {row.key: n for n, row in enumerate(ROWS)}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def row_record(result: RowResult, *, load: str) -> dict:
    numbers = {key: round(value, 3) for key, value in result.numbers.items()}
    return {
        "key": result.row.key,
        "workload": result.row.workload,
        "db": result.db,
        "connections": result.row.connections,
        "target": ", ".join(str(t) for t in result.row.targets),
        "missed": [str(t) for t in result.row.targets if not t.met(result.numbers)],
        "met": result.met,
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load_average_start": load,
        **numbers,
        **({"profile": _profile_record(result.profile)} if result.profile else {}),
    }


def _profile_record(profile: Profile) -> dict:
    return {
        "requests": profile.requests,
        "cpu_ms": round(profile.cpu_ms, 3),
        "system_ms": round(profile.system_ms, 3),
        "python_ms": round(profile.python_ms, 3),
        "layers": {s.layer: round(s.cpu_ms, 3) for s in profile.layers},
    }


def layer_table(records: list[dict]) -> list[str]:
    """Server CPU per request by layer (ms), a column per profiled row, layers by their total."""
    profiled = [r for r in records if r.get("profile")]
    if not profiled:
        return []
    totals: dict[str, float] = {}
    for r in profiled:
        for layer, ms in r["profile"]["layers"].items():
            totals[layer] = totals.get(layer, 0.0) + ms / max(r["profile"]["cpu_ms"], 1e-9)
    heads = [f"{r['key']} ({r['db']})" for r in profiled]
    lines = ["| layer | " + " | ".join(heads) + " |", "|---|" + "---:|" * len(heads)]
    for layer in sorted(totals, key=lambda name: -totals[name]):
        cells = [_ms(r["profile"]["layers"].get(layer)) for r in profiled]
        lines.append(f"| {layer} | " + " | ".join(cells) + " |")
    lines.append(
        "| **server CPU per request (profiled run)** | "
        + " | ".join(f"**{r['profile']['cpu_ms']:.3f}**" for r in profiled)
        + " |"
    )
    lines.append(
        "| of which Python holding the GIL (sampled) | "
        + " | ".join(f"{r['profile']['python_ms']:.3f}" for r in profiled)
        + " |"
    )
    return lines


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def _rate(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def table(records: list[dict]) -> list[str]:
    """Markdown rows, one per record."""
    lines = [HEADER, "|" + "---|" * (HEADER.count("|") - 1)]
    for r in records:
        if r["met"]:
            met = "met"
        elif not r["requests"]:
            met = "not met (no answer completed)"
        elif not r["missed"] and r["errors"]:
            met = f"not met ({r['errors']:.0f} errors)"
        else:
            met = "not met: " + "; ".join(r["missed"])
        lines.append(
            f"| {r['workload']} | {r['db']} | {r['connections']} | {_rate(r['req_per_s'])} "
            f"| {r['p50_ms']:.2f} | {r['p99_ms']:.2f} "
            f"| {r['cpu_ms']:.3f} ({r['server_cores']:.2f}) "
            f"| {r['generator_cpu_ms']:.3f} ({r['generator_cores']:.2f}) | {r['errors']:.0f} "
            f"| {r['target']} | {met} |"
        )
    return lines


def merge(previous: dict | None, records: list[dict], *, meta: dict) -> dict:
    """The suite's JSON entry: `records` replace the rows of the same (db, workload)."""
    kept = {(r["db"], r["key"]): r for r in (previous or {}).get("rows", [])}
    kept.update({(r["db"], r["key"]): r for r in records})
    rows = sorted(kept.values(), key=lambda r: (r["db"], ORDER.get(r["key"], 99)))
    return {
        **(previous or {}),
        **meta,
        "title": TITLE,
        "rows": rows,
        "table": table(rows),
        "layer_table": layer_table(rows),
        "runs": {
            r["db"]: f"{r['date']}, load average at start {r['load_average_start']}" for r in rows
        },
        "numbers": {},
    }
