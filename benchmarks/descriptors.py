"""What a server's open descriptors are: `/proc/<pid>/fd` of a process and its descendants, by kind
(Linux). `make soak` samples it to tell a leak from pools filling up (issue #18).

Sockets are told apart by `/proc/<pid>/net/tcp{,6}`: connections to the database's and Redis's
ports, clients' connections accepted on the server's port, listening sockets; the rest (Unix
sockets, other TCP) are "other sockets". Regular files under the Prometheus multiprocess
directory are "metrics files".

    python -m benchmarks.descriptors PID SERVER_PORT [POSTGRES_PORT [REDIS_PORT]]

prints the counts of a running `tessera serve` (PID: the supervisor's), one line per kind.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

KINDS = (
    "postgres",
    "redis",
    "clients",
    "listening",
    "other sockets",
    "pipes",
    "event loop",
    "metrics files",
    "other files",
)
_LISTEN = "0A"
METRICS_DIR_NAME = "prometheus-multiproc"  # tessera.api.management.commands.serve


@dataclass(frozen=True)
class Ports:
    server: int
    postgres: int = 5432
    redis: int = 6379


def process_tree(pid: int) -> list[int]:
    """The process and its descendants (uvicorn's workers, multiprocessing's resource tracker)."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            for child in (task / "children").read_text().split():
                found += process_tree(int(child))
    return found


def _tcp_sockets(pid: int) -> dict[str, tuple[int, int, str]]:
    """inode → (local port, remote port, state) of the TCP sockets in the process's namespace."""
    sockets: dict[str, tuple[int, int, str]] = {}
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
                fields = line.split()
                local = int(fields[1].rsplit(":", 1)[1], 16)
                remote = int(fields[2].rsplit(":", 1)[1], 16)
                sockets[fields[9]] = (local, remote, fields[3])
    return sockets


def _kind(target: str, tcp: dict[str, tuple[int, int, str]], ports: Ports) -> str:
    if target.startswith("socket:["):
        found = tcp.get(target[len("socket:[") : -1])
        if found is None:
            return "other sockets"
        local, remote, state = found
        if state == _LISTEN:
            return "listening"
        if remote == ports.postgres:
            return "postgres"
        if remote == ports.redis:
            return "redis"
        if local == ports.server:
            return "clients"
        return "other sockets"
    if target.startswith("pipe:"):
        return "pipes"
    if target.startswith("anon_inode:"):  # epoll, eventfd, io_uring, signalfd of event loops
        return "event loop"
    if f"/{METRICS_DIR_NAME}/" in target:
        return "metrics files"
    return "other files"


def descriptors_by_kind(pid: int, ports: Ports) -> Counter[str]:
    """Open descriptors of `pid` and its descendants, counted by kind (empty once it is gone)."""
    counts: Counter[str] = Counter()
    for proc in process_tree(pid):
        tcp = _tcp_sockets(proc)
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{proc}/fd"):
                with contextlib.suppress(OSError):  # closed since the listing
                    counts[_kind(os.readlink(f"/proc/{proc}/fd/{fd}"), tcp, ports)] += 1
    return counts


def resident_mib(pid: int) -> float:
    """Resident memory of `pid` and its descendants, MiB."""
    kib = 0
    for proc in process_tree(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{proc}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    kib += int(line.split()[1])
    return kib / 1024


def main(argv: list[str]) -> int:
    if len(argv) < 2 or not all(a.isdigit() for a in argv):
        print(__doc__, file=sys.stderr)
        return 2
    pid, *ports = (int(a) for a in argv[:4])
    counts = descriptors_by_kind(pid, Ports(*ports))
    for kind in KINDS:
        print(f"{kind:<14} {counts[kind]:>6}")
    print(f"{'total':<14} {counts.total():>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
