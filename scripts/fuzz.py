"""A long fuzz session over the SQL front end, the YAML loader and the reporters (run
by hand, not in CI).

    python scripts/fuzz.py --examples 100000

Reuses the strategies and invariants of tests/test_properties.py with a large example
budget and prints how many inputs ran and any failure hypothesis found (minimised).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests import test_properties as props  # noqa: E402

COUNT = {"inputs": 0}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=100_000)
    args = parser.parse_args()
    sources = {
        "grammar": props.migrations(),
        "mutated corpus": props.mutated_corpus(),
        "random bytes": st.binary(max_size=4000),
        "manifests": props.manifests(),
    }
    share = -(-args.examples // len(sources))  # round up: at least --examples in all
    budget = settings(
        max_examples=share,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    failures = 0
    start = time.monotonic()
    for name, strategy in sources.items():
        path = "m.yaml" if name == "manifests" else "m.sql"

        @budget
        @given(strategy)
        def run(data: bytes) -> None:
            COUNT["inputs"] += 1
            props.check_invariants(data, path)  # noqa: B023 - run() is called right here

        try:
            run()
            print(f"{name}: ok", flush=True)
        except Exception as exc:  # noqa: BLE001 - report and go on with the next source
            failures += 1
            print(f"{name}: FAILED: {type(exc).__name__}: {exc}", flush=True)
    elapsed = time.monotonic() - start
    print(f"{COUNT['inputs']} inputs in {elapsed:.0f} s, {failures} failing source(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
