"""docs/benchmarks.json (the last numbers of each benchmark) and docs/benchmarks.md made from it."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "docs" / "benchmarks.json"
REPORT = ROOT / "docs" / "benchmarks.md"


LAYER_NOTES = (
    'Each row run once more for 15 s under py-spy (`make bench-http ARGS="--profile 15"`, '
    "benchmarks/http/layers.py). py-spy samples the thread holding the GIL, 97 times a second; "
    "a sample goes to the layer of its innermost frame that belongs to one, and a layer's "
    "samples over the rate, per request, are its Python time. What runs without the GIL is "
    "measured from /proc instead: the kernel's system time, and the user time the samples do "
    "not explain (Argon2's hash, libpq I/O, other C code). The layers add up to the server CPU "
    "per request of the profiled run (bold); the last line is the sampled Python part."
)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    python = platform.python_version()
    system = f"{platform.system()} {platform.machine()}"
    return f"{system}, {os.cpu_count()} cores, {cpu}, Python {python}"


def _numbers(entry: dict) -> list[str]:
    lines = ["| metric | value |", "| --- | --- |"]
    for key, value in entry["numbers"].items():
        shown = f"{value:,.2f}" if isinstance(value, float) else str(value)
        lines.append(f"| {key} | {shown} |")
    return lines


def _section(name: str, entry: dict) -> list[str]:
    lines = [f"## {entry.get('title', name)}", ""]
    if "table" in entry:  # a suite with rows and targets (benchmarks.http)
        lines += [
            f"Run {entry['date']} on {entry['machine']} (`nproc` {entry['nproc']}), load average "
            f"at start {entry['load_average_start']}; {entry['seconds']:.0f} s.",
            "",
        ]
        if entry.get("runs"):
            runs = "; ".join(f"{db}: {run}" for db, run in sorted(entry["runs"].items()))
            lines += [f"Rows measured per database — {runs}.", ""]
        if entry.get("seed_seconds"):
            seeded = ", ".join(f"{db} {s:.0f} s" for db, s in sorted(entry["seed_seconds"].items()))
            lines += [f"Seeding (once per database, reused after): {seeded}.", ""]
        if entry.get("caveat"):
            lines += [f"**{entry['caveat']}**", ""]
        if entry.get("notes"):
            lines += [entry["notes"], ""]
        lines += [*entry["table"], ""]
        if entry.get("layer_table"):
            lines += [
                "### Where the server CPU goes, per layer (ms per request)",
                "",
                LAYER_NOTES,
                "",
                *entry["layer_table"],
                "",
            ]
        return lines
    lines += [f"Run {entry['date']} on {entry['machine']} ({entry['seconds']:.0f} s).", ""]
    if entry.get("notes"):
        lines += [entry["notes"], ""]
    return [*lines, *_numbers(entry), ""]


def render(results: dict) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Produced by `make bench` (`python -m benchmarks`); numbers from the last run of each",
        "benchmark, with the machine and date it ran on. Targets come from the issues.",
        "",
    ]
    for name, entry in sorted(results.items()):
        lines += _section(name, entry)
    return "\n".join(lines)


def load() -> dict:
    return json.loads(RESULTS.read_text()) if RESULTS.exists() else {}


def write(results: dict) -> None:
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    REPORT.write_text(render(results))
