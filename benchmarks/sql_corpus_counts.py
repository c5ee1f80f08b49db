"""Per-rule finding counts on the real migrations in ../shared/corpus/sql.

    python benchmarks/sql_corpus_counts.py [--select ALL] [--show ZD501 --limit 10]

Each project folder is checked as its own migration history (files sorted by name, as
the corpus keeps their timestamps), the way `zdlint check <folder>` would.
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

from zdlint.catalogue import load_catalogue
from zdlint.config import Settings, rule_selectors
from zdlint.lint import lint_paths

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "sql"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--select", default="")
    parser.add_argument("--show", default="", help="print the findings of these rules")
    parser.add_argument("--limit", type=int, default=20)
    args = parser.parse_args()
    if not CORPUS.is_dir():
        print(f"corpus not found at {CORPUS}", file=sys.stderr)
        return 2
    catalogue = load_catalogue()
    settings = Settings()
    if args.select:
        settings = Settings(
            select=tuple(rule_selectors(args.select.split(","), catalogue, "--select"))
        )
    projects = sorted(p for p in CORPUS.iterdir() if p.is_dir())
    counts: dict[str, collections.Counter[str]] = {}
    shown = collections.Counter[str]()
    show = set(args.show.split(",")) if args.show else set()
    for project in projects:
        run = lint_paths([str(project)], settings, catalogue)
        counter = counts.setdefault(project.name, collections.Counter())
        for report in run.reports:
            for finding in report.findings:
                counter[finding.code] += 1
                if finding.code in show and shown[finding.code] < args.limit:
                    shown[finding.code] += 1
                    print(f"{finding.path}:{finding.span.line}: {finding.code} {finding.message}")
    codes = sorted({code for c in counts.values() for code in c})
    header = ["rule", *[p.name for p in projects], "total"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for code in codes:
        rule = catalogue.get(code)
        row = [f"{code} {rule.name if rule else ''}"]
        row += [str(counts[p.name][code]) for p in projects]
        row.append(str(sum(counts[p.name][code] for p in projects)))
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
