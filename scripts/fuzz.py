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


K8S_CORPUS = props.CORPUS / "k8s"
_YAML_TRICKS = [
    b"!!python/object/apply:os.system ['true']\n",
    b"a: &a [*a]\n",
    b"x: &x {k: v}\ny: [*x, *x, *x]\n",
    b"{{ .Values.image }}\n",
    b"---\n",
    b"\t- tab\n",
    b"- [[[[[[[[[[[[[[[[[[[[\n",
]


@st.composite
def manifests(draw: st.DrawFn) -> bytes:
    """Real manifests from the corpus with YAML-level mutations."""
    files = sorted(K8S_CORPUS.rglob("*.yaml")) + sorted(K8S_CORPUS.rglob("*.yml"))
    data = bytearray(draw(st.sampled_from(files)).read_bytes())
    for _ in range(draw(st.integers(0, 3))):
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        if draw(st.booleans()):
            data[position:position] = draw(st.sampled_from(_YAML_TRICKS))
        elif data:
            data[position] ^= 1 << draw(st.integers(0, 7))
    return bytes(data)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=100_000)
    args = parser.parse_args()
    sources = {
        "grammar": props.migrations(),
        "mutated corpus": props.mutated_corpus(),
        "random bytes": st.binary(max_size=4000),
        "manifests": manifests(),
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
