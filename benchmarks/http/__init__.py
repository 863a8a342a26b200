"""The HTTP benchmark suite (issue 17): `tessera serve` under wrk, on PostgreSQL + Redis and SQLite.

prepare.py   child process: migrate, seed 100,000 members once (marker), start refresh chains
server.py    the server subprocess: free port, /healthz, CPU time of its process tree
wrk.py       one wrk run with a Lua script from lua/, its JSON summary, the generator's CPU
rows.py      the workloads and their targets
suite.py     one database's run: prepare, serve, sign in (API, /admin/login/), measure rows
report.py    the table and the docs/benchmarks.json entry ("Over real HTTP")
cli.py       `python -m benchmarks.http` / `make bench-http`; benchmarks/bench_http.py runs it
             within `make bench`
"""
