"""Run every benchmark module (or those named) and write docs/benchmarks.md.

python -m benchmarks [NAME ...] [--no-write]
"""

from __future__ import annotations

import datetime
import importlib
import pkgutil
import sys
import time
from pathlib import Path

from benchmarks.report import REPORT, ROOT, load, machine, write


def main(argv: list[str]) -> int:
    save = "--no-write" not in argv
    wanted = [a for a in argv if not a.startswith("--")]
    names = sorted(
        m.name
        for m in pkgutil.iter_modules([str(Path(__file__).parent)])
        if m.name.startswith("bench_")
    )
    if wanted:
        names = [n for n in names if n in wanted or n.removeprefix("bench_") in wanted]
    results = load()
    for name in names:
        print(f"== {name}", flush=True)
        module = importlib.import_module(f"benchmarks.{name}")
        if hasattr(module, "run_entry"):  # a benchmark that builds (and prints) its own entry
            results[name] = module.run_entry(results.get(name))
            continue
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
    if save:
        write(results)
        print(f"wrote {REPORT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
