"""Per-rule finding counts of the Kubernetes checker on the real-manifest corpus.

Run by hand: `python benchmarks/k8s_corpus_counts.py [CORPUS]` (default
`../shared/corpus/k8s`, read in place). Every rule is selected, the off-by-default ones
included, and the default settings apply otherwise; each file is its own render scope.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

from zdlint.catalogue import load_catalogue
from zdlint.config import Settings
from zdlint.lint import lint_paths

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "k8s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, nargs="?", default=DEFAULT_CORPUS)
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"{args.corpus}: no such folder", file=sys.stderr)
        return 2
    catalogue = load_catalogue()
    settings = Settings(
        select=tuple(r.code for r in catalogue if r.language == "yaml") + ("ZD002",)
    )
    started = time.perf_counter()
    run = lint_paths([str(args.corpus)], settings, catalogue)
    elapsed = time.perf_counter() - started
    findings = [f for report in run.reports for f in report.findings]
    counts = collections.Counter(f.code for f in findings)
    files = collections.defaultdict(set)
    for f in findings:
        files[f.code].add(f.path)
    print(f"{len(run.reports)} files, {len(findings)} findings, {elapsed:.2f}s")
    print(f"{'code':<6} {'rule':<36} {'findings':>8} {'files':>6}")
    for rule in catalogue:
        if rule.language == "yaml" or rule.code == "ZD002":
            print(
                f"{rule.code:<6} {rule.name:<36} {counts[rule.code]:>8} {len(files[rule.code]):>6}"
            )
    for error in run.errors:
        print(f"error: {error}", file=sys.stderr)
    return 1 if run.errors else 0


if __name__ == "__main__":
    sys.exit(main())
