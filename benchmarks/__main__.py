"""Run every benchmark module (or those named) and write docs/benchmarks.md.

python -m benchmarks [NAME ...] [--no-write]
"""

from __future__ import annotations

import datetime
import importlib
import json
import os
import pkgutil
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "docs" / "benchmarks.json"
REPORT = ROOT / "docs" / "benchmarks.md"


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


def render(results: dict) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Produced by `make bench` (`python -m benchmarks`); numbers from the last run of each",
        "benchmark, with the machine and date it ran on. Targets come from the issues.",
        "",
    ]
    for name, entry in sorted(results.items()):
        lines += [
            f"## {name}",
            "",
            f"Run {entry['date']} on {entry['machine']} ({entry['seconds']:.0f} s).",
            "",
        ]
        if entry.get("notes"):
            lines += [entry["notes"], ""]
        lines += ["| metric | value |", "| --- | --- |"]
        for key, value in entry["numbers"].items():
            shown = f"{value:,.2f}" if isinstance(value, float) else str(value)
            lines.append(f"| {key} | {shown} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    write = "--no-write" not in argv
    wanted = [a for a in argv if not a.startswith("--")]
    names = sorted(
        m.name
        for m in pkgutil.iter_modules([str(Path(__file__).parent)])
        if m.name.startswith("bench_")
    )
    if wanted:
        names = [n for n in names if n in wanted or n.removeprefix("bench_") in wanted]
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    for name in names:
        print(f"== {name}", flush=True)
        module = importlib.import_module(f"benchmarks.{name}")
        started = time.perf_counter()
        numbers = module.run()
        notes = getattr(module, "NOTES", "")
        results[name] = {
            "date": datetime.date.today().isoformat(),
            "machine": machine(),
            "seconds": time.perf_counter() - started,
            "numbers": numbers,
            "notes": notes,
        }
        for key, value in numbers.items():
            print(f"  {key}: {value}")
    if write:
        RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
        REPORT.write_text(render(results))
        print(f"wrote {REPORT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
