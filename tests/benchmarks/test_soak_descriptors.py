"""The soak's open-descriptor verdict (benchmarks.soak, benchmarks.descriptors): descriptors told
apart by kind on a real process, and pools filling to their bound not counted as growth."""

from __future__ import annotations

import os
import socket
import sys

import pytest
from benchmarks.descriptors import Ports, descriptors_by_kind
from benchmarks.soak import Config, Recorder, descriptor_growth, pool_bounds, summarise

BOUNDS = pool_bounds(workers=2, http_threads=8, sockets=4)


def test_the_bounds_are_a_connection_per_thread_and_the_channel_layer_s():
    assert BOUNDS == {"postgres": 18, "redis": 24}


def test_pools_filling_up_to_their_bound_are_not_growth():
    first = {"postgres": 12, "redis": 14, "clients": 22, "pipes": 20}
    last = {"postgres": 18, "redis": 24, "clients": 22, "pipes": 20}
    assert descriptor_growth(first, last, BOUNDS) == 0


def test_connections_past_the_bound_and_other_kinds_are_growth():
    # the Redis connections before the shared pool (issue #18): 64 → 93 over the run
    assert descriptor_growth({"redis": 64}, {"redis": 93}, BOUNDS) == 29
    assert descriptor_growth({"redis": 14}, {"redis": 30}, BOUNDS) == 6
    assert descriptor_growth({"metrics files": 12}, {"metrics files": 16}, BOUNDS) == 4
    assert (
        descriptor_growth({"clients": 24, "pipes": 20}, {"clients": 20, "pipes": 21}, BOUNDS) == -3
    )


def _recorded(*fd_kinds: dict[str, int]) -> Recorder:
    config = Config(seconds=20.0 * len(fd_kinds), window=20.0, workers=2, http_threads=8)
    rec = Recorder(config)
    for window, kinds in zip(rec.windows, fd_kinds, strict=True):
        window.latencies = [0.01] * 50
        window.rss_mib = 600.0
        window.fd_kinds = kinds
        window.fds = sum(kinds.values())
    return rec


def test_connections_over_the_bound_fail_the_run_even_when_they_did_not_rise():
    # the first short soak before the shared Redis pool (issue #18): flat, but one per request
    rec = _recorded({"postgres": 14, "redis": 55}, {"postgres": 15, "redis": 57})
    result, failures = summarise(rec, rec.config)
    assert result["fd_growth"] == 2
    assert failures == ["57 redis connections in the last window, over their pools' bound 24"]


def test_a_run_whose_pools_fill_passes():
    rec = _recorded(
        {"postgres": 12, "redis": 14, "pipes": 20}, {"postgres": 18, "redis": 17, "pipes": 20}
    )
    assert summarise(rec, rec.config)[1] == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_process_descriptors_are_told_apart_by_kind():
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        ports = Ports(server=port, redis=port)  # this process plays the server and its Redis
        before = descriptors_by_kind(os.getpid(), ports)
        with socket.create_connection(("127.0.0.1", port)):
            accepted, _ = server.accept()
            read_end, write_end = os.pipe()
            try:
                counts = descriptors_by_kind(os.getpid(), ports)
            finally:
                accepted.close()
                os.close(read_end)
                os.close(write_end)
    assert counts["listening"] == before["listening"] >= 1
    assert counts["clients"] == before["clients"] + 1  # accepted on the server's port
    assert counts["redis"] == before["redis"] + 1  # connected to the "Redis" port
    assert counts["pipes"] == before["pipes"] + 2
