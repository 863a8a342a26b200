"""The failure tests' world: their own PostgreSQL cluster and redis-server (never the suite's: they
are stopped, killed and paused here), migrated once, with a tenant and its administrator, and one
`tessera serve` on them shared by the tests that leave it running."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.failures.processes import (
    PASSWORD,
    PostgresCluster,
    RedisServer,
    Served,
    tessera_command,
    tessera_env,
    tessera_serving,
)
from tests.failures.world import ADMIN, TENANT, tokens


@dataclass
class Backing:
    pg: PostgresCluster
    redis: RedisServer
    var_dir: Path

    def env(self, *, redis: bool = True, name: str = "") -> dict[str, str]:
        """The environment of a `tessera` process; `name`: its own var folder (static files)."""
        var_dir = self.var_dir / name if name else self.var_dir
        var_dir.mkdir(exist_ok=True)
        return tessera_env(
            var_dir, database_url=self.pg.url, redis_url=self.redis.url if redis else None
        )

    def log(self, name: str) -> Path:
        return self.var_dir / f"{name}.log"


@pytest.fixture(scope="package")
def backing():
    pg = PostgresCluster()
    redis = RedisServer()
    var_dir = Path(tempfile.mkdtemp(prefix="tessera-failures-"))
    try:
        pg.start()
        redis.start()
        world = Backing(pg, redis, var_dir)
        env = world.env()
        tessera_command(env, "migrate", "-v", "0")
        tessera_command(
            env, "init", "--tenant", TENANT, "--admin-email", ADMIN, "--admin-password", PASSWORD
        )
        yield world
    finally:
        redis.stop()
        pg.destroy()
        keep = os.environ.get("TESSERA_FAILURES_LOGS")  # a folder to keep the servers' logs in
        if keep:
            for log in var_dir.glob("*.log"):
                shutil.copy(log, keep)
        shutil.rmtree(var_dir, ignore_errors=True)


@pytest.fixture(scope="package")
def servers(backing) -> list[Served]:
    """Two `tessera serve` processes on the same PostgreSQL and Redis, started together: A serves
    every test; B the two-process test, then the SIGTERM test (which ends it)."""
    with tessera_serving(
        (backing.env(name="a"), backing.log("serve-a")),
        # B hashes new passwords at the production cost: the SIGTERM test's slow logins
        (
            {
                **backing.env(name="b"),
                "TESSERA_ARGON2_TIME_COST": "3",
                "TESSERA_ARGON2_MEMORY_COST": "65536",
            },
            backing.log("serve-b"),
        ),
    ) as running:
        yield running


@pytest.fixture(scope="package")
def served(servers) -> Served:
    return servers[0]


@pytest.fixture(scope="package")
def served_b(servers) -> Served:
    return servers[1]


@pytest.fixture
def admin_token(served) -> str:
    return tokens(served.base, ADMIN)["access_token"]
