"""Score zdlint's Kubernetes findings against the hand-labelled precision set.

findings.tsv (beside this script, see README.md) holds one row per finding of a default
run on ../shared/corpus/k8s (microservices-demo and podinfo): file, line, rule, label
(TRUE, FALSE or DEBATABLE) and a one-line reason. TRUE: an SRE would change the manifest
because of it. FALSE: the finding is wrong about what Kubernetes does with this manifest.
DEBATABLE: right, but a matter of policy or context the manifest does not show.

zdlint runs on each repository in its real layout: the corpus flattens paths (`/` became
`__`), so the files are laid out again under a temporary folder from the corpus's
index.jsonl, and zdlint checks each folder of manifests in one run (a folder is what
`kubectl apply -f DIR` or a kustomization deploys together; sibling folders are other
variants of the same application, never deployed beside it).

A finding matches the label of the same file, line and rule. Findings without a label
are listed as `new` (label them before trusting the figure); labels no finding matches
any more are `gone`.

Run: python benchmarks/precision-k8s/score.py [--corpus ../shared/corpus/k8s] [--details]
Exit 1 with --strict when a finding is unlabelled, one is FALSE, or precision < goal.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
# ../shared/corpus/k8s beside the checkout (or beside the folder of worktrees).
DEFAULT_CORPUS = next(
    (c for p in HERE.parents if (c := p / "shared" / "corpus" / "k8s").is_dir()),
    HERE.parents[2] / "shared" / "corpus" / "k8s",
)
REPOSITORIES = ("GoogleCloudPlatform+microservices-demo", "stefanprodan+podinfo")
VERDICTS = ("TRUE", "FALSE", "DEBATABLE")
GOAL = 0.90


@dataclass(frozen=True)
class Label:
    file: str  # <repository>/<path in the repository>
    line: int
    rule: str
    label: str
    reason: str

    @property
    def key(self) -> tuple[str, int, str]:
        return (self.file, self.line, self.rule)


def load_labels(path: Path = HERE / "findings.tsv") -> list[Label]:
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    rows = csv.DictReader(
        [ln for ln in lines if not ln.startswith("#")], delimiter="\t", quoting=csv.QUOTE_NONE
    )
    labels = [
        Label(row["file"], int(row["line"]), row["rule"], row["label"], row["reason"])
        for row in rows
    ]
    for label in labels:
        if label.label not in VERDICTS:
            raise SystemExit(f"{path}: label must be one of {', '.join(VERDICTS)}: {label}")
    return labels


def lay_out(corpus: Path, repository: str, root: Path) -> list[Path]:
    """Copy a repository's manifests into `root` at their source paths; the folders."""
    folders: set[Path] = set()
    for line in (corpus / repository / "index.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        target = root / repository / row["source"]
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(corpus / repository / row["out"], target)
        folders.add(target.parent)
    return sorted(folders)


def run_zdlint(files: list[Path]) -> list[dict[str, object]]:
    command = [sys.executable, "-m", "zdlint", "check", "--no-cache", "--exit-zero"]
    command += ["--output-format", "json", *map(str, files)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"zdlint failed on {files} ({done.returncode}):\n{done.stderr}")
    findings: list[dict[str, object]] = json.loads(done.stdout)["findings"]
    return findings


@dataclass(frozen=True)
class Finding:
    file: str
    line: int
    rule: str
    message: str

    @property
    def key(self) -> tuple[str, int, str]:
        return (self.file, self.line, self.rule)


def default_run(corpus: Path) -> list[Finding]:
    """Every finding of a default run, one run per folder of manifests."""
    found: list[Finding] = []
    with tempfile.TemporaryDirectory(prefix="zdlint-precision-k8s-") as tmp:
        root = Path(tmp).resolve()
        for repository in REPOSITORIES:
            for folder in lay_out(corpus, repository, root):
                files = sorted(p for p in folder.iterdir() if p.is_file())
                for f in run_zdlint(files):
                    name = Path(str(f["path"])).resolve().relative_to(root).as_posix()
                    found.append(
                        Finding(name, int(str(f["line"])), str(f["code"]), str(f["message"]))
                    )
    return sorted(found, key=lambda f: f.key)


@dataclass
class Outcome:
    by_rule: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    new: list[Finding] = field(default_factory=list)
    gone: list[Label] = field(default_factory=list)
    not_true: list[tuple[Label, str]] = field(default_factory=list)

    @property
    def totals(self) -> Counter[str]:
        total = Counter[str]()
        for counts in self.by_rule.values():
            total.update(counts)
        return total

    @property
    def judged(self) -> int:
        return sum(self.totals[v] for v in VERDICTS)

    @property
    def precision(self) -> float:
        return self.totals["TRUE"] / self.judged if self.judged else 0.0


def evaluate(corpus: Path, labels: list[Label] | None = None) -> Outcome:
    labels = load_labels() if labels is None else labels
    by_key = {label.key: label for label in labels}
    out = Outcome()
    seen: set[tuple[str, int, str]] = set()
    for finding in default_run(corpus):
        label = by_key.get(finding.key)
        if label is None:
            out.new.append(finding)
            out.by_rule[finding.rule]["new"] += 1
            continue
        seen.add(finding.key)
        out.by_rule[finding.rule][label.label] += 1
        if label.label != "TRUE":
            out.not_true.append((label, finding.message))
    out.gone = [label for label in labels if label.key not in seen]
    return out


def _row(rule: str, c: Counter[str]) -> str:
    judged = sum(c[v] for v in VERDICTS)
    share = f"{c['TRUE'] / judged:.1%}" if judged else "-"
    return f"{rule:<7} {c['TRUE']:>5} {c['DEBATABLE']:>9} {c['FALSE']:>5} {c['new']:>5}  {share}"


def report(out: Outcome, details: bool) -> None:
    print(f"{'rule':<7} {'true':>5} {'debatable':>9} {'false':>5} {'new':>5}  precision")
    for rule in sorted(out.by_rule):
        print(_row(rule, out.by_rule[rule]))
    print(_row("all", out.totals))
    print(
        f"\nlabelled findings reported: {out.judged}; precision {out.precision:.1%}"
        f" (goal {GOAL:.0%}, no FALSE); unlabelled findings: {len(out.new)};"
        f" labels no finding matches: {len(out.gone)}"
    )
    if not details:
        return
    for label, message in out.not_true:
        print(f"{label.label:<9} {label.file}:{label.line} {label.rule}: {label.reason}")
        print(f"          {message}")
    for finding in out.new:
        print(f"NEW       {finding.file}:{finding.line} {finding.rule}: {finding.message}")
    for label in out.gone:
        print(f"GONE      {label.file}:{label.line} {label.rule} ({label.label}): {label.reason}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--labels", type=Path, default=HERE / "findings.tsv")
    parser.add_argument("--details", action="store_true", help="list every non-TRUE outcome")
    parser.add_argument("--list", action="store_true", help="print the default run's findings")
    parser.add_argument("--strict", action="store_true", help="exit 1 below the goal")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        raise SystemExit(f"no corpus at {args.corpus} (give --corpus)")
    if args.list:
        for f in default_run(args.corpus):
            print(f"{f.file}\t{f.line}\t{f.rule}\t{f.message}")
        return
    out = evaluate(args.corpus, load_labels(args.labels))
    report(out, args.details)
    if args.strict and (out.precision < GOAL or out.new or out.totals["FALSE"]):
        sys.exit(1)


if __name__ == "__main__":
    main()
