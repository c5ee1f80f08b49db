"""Score zdlint's SQL findings against the hand-labelled precision set.

Each project folder here holds three tab-separated files, labelled by hand from
../shared/corpus/sql/<project> (see README.md beside this script):

- files.tsv    the sampled files; every finding zdlint reports in them must be labelled;
- findings.tsv one row per finding: file, line, code, verdict (TRUE/FALSE), the lock and
               the table a correct message names ("-" for none), and the reason;
- missed.tsv   statements that carry a hazard: file, line, the codes that may report it.

zdlint runs on each project in its real layout: the corpus flattens paths (`/` became
`__`), which hides what identifies the migration tool (Prisma's `<timestamp>_name/
migration.sql`, Diesel's `<timestamp>_name/up.sql`), so the files are laid out again under
a temporary folder from the corpus's MANIFEST.tsv before the run.

Labels and findings are matched by statement, not by exact position: a label names the
first line of a finding, and a finding of the same code that starts in the same
statement is the same finding. A reported finding counts as TRUE only when its label is
TRUE and its message names the labelled lock and table; a TRUE finding with a wrong lock
or table counts against precision as `wrong-message`. Findings in sampled files without a
label are listed as `unlabelled` (label them before trusting the figure).

Run: python benchmarks/precision/score.py [--corpus ../shared/corpus/sql] [--details]
Exit 1 with --strict when a sampled file holds an unlabelled finding or precision < goal.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE.parents[2] / "shared" / "corpus" / "sql"
GOAL = 0.97

# SQL spellings of the lock modes, longest first so "SHARE" does not match inside
# "SHARE ROW EXCLUSIVE".
_MODES = (
    "SHARE UPDATE EXCLUSIVE",
    "SHARE ROW EXCLUSIVE",
    "ACCESS EXCLUSIVE",
    "ROW EXCLUSIVE",
    "ACCESS SHARE",
    "ROW SHARE",
    "EXCLUSIVE",
    "SHARE",
)
_MODE_PATTERN = re.compile(r"\b(" + "|".join(_MODES) + r")\b")


@dataclass(frozen=True)
class Label:
    project: str
    file: str
    line: int
    code: str
    verdict: str
    lock: str
    table: str
    reason: str


@dataclass(frozen=True)
class Missed:
    project: str
    file: str
    line: int
    codes: tuple[str, ...]
    reason: str


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    lines = [ln for ln in lines if not ln.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))


def load_project(folder: Path) -> tuple[list[str], list[Label], list[Missed]]:
    project = folder.name
    files = [row["file"] for row in _rows(folder / "files.tsv")]
    labels = [
        Label(
            project,
            row["file"],
            int(row["line"]),
            row["code"],
            row["verdict"].upper(),
            row["lock"],
            row["table"],
            row["reason"],
        )
        for row in _rows(folder / "findings.tsv")
    ]
    missed = [
        Missed(
            project, row["file"], int(row["line"]), tuple(row["codes"].split("|")), row["reason"]
        )
        for row in _rows(folder / "missed.tsv")
    ]
    for label in labels:
        if label.verdict not in ("TRUE", "FALSE"):
            raise SystemExit(f"{folder}/findings.tsv: verdict must be TRUE or FALSE: {label}")
    return files, labels, missed


def statement_lines(path: Path) -> list[tuple[int, int]]:
    """(first line, last line) of each statement of a file, comments included."""
    from zdlint.source import SourceText
    from zdlint.sql.parse import parse_statements

    source = SourceText(path.read_text(encoding="utf-8"))
    spans = []
    for stmt in parse_statements(source):
        first = source.position(stmt.comment_start)[0]
        spans.append((first, stmt.span.end_line))
    return spans


def statement_of(spans: list[tuple[int, int]], line: int) -> int:
    """Index of the statement holding a line (-1 past the end)."""
    for index, (first, last) in enumerate(spans):
        if first <= line <= last:
            return index
    return -1


def lay_out(corpus: Path, project: str, root: Path) -> dict[str, str]:
    """Copy a project's files into `root` at their source paths; source path -> corpus name."""
    names: dict[str, str] = {}
    for row in _rows(corpus / "MANIFEST.tsv"):
        if row["project"] != project:
            continue
        target = root / row["source_path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(corpus / row["corpus_file"], target)
        names[row["source_path"]] = Path(row["corpus_file"]).name
    if not names:
        raise SystemExit(f"{corpus}/MANIFEST.tsv lists no file of {project}")
    return names


def project_findings(corpus: Path, project: str) -> dict[str, list[dict[str, object]]]:
    """zdlint's findings on a project laid out as in its repository, by corpus file name."""
    by_file: dict[str, list[dict[str, object]]] = defaultdict(list)
    with tempfile.TemporaryDirectory(prefix=f"zdlint-precision-{project}-") as tmp:
        root = Path(tmp)
        names = lay_out(corpus, project, root)
        for f in run_zdlint(root):
            source = Path(str(f["path"])).resolve().relative_to(root.resolve()).as_posix()
            by_file[names[source]].append(f)
    return by_file


def load_releases(folder: Path) -> list[tuple[str, str]]:
    """(file, the first migration of its release) from the project's releases.tsv."""
    path = folder / "releases.tsv"
    return [(r["file"], r["first"]) for r in _rows(path)] if path.exists() else []


def release_findings(corpus: Path, project: str, file: str, first: str) -> list[dict[str, object]]:
    """zdlint's findings on `file` as CI reports them on the branch that adds the
    migrations `first` … `file`: the rest of the project is committed, and the release's
    files are new since that commit (`--diff-base HEAD`)."""
    with tempfile.TemporaryDirectory(prefix=f"zdlint-release-{project}-") as tmp:
        root = Path(tmp)
        names = lay_out(corpus, project, root)
        release = {s for s, name in names.items() if first <= name <= file}
        if not any(names[s] == file for s in release) or not any(
            names[s] == first for s in release
        ):
            raise SystemExit(f"{project}/releases.tsv: {first} .. {file} not in the corpus")
        git = ["git", "-c", "user.name=score", "-c", "user.email=score@localhost"]
        subprocess.run([*git, "init", "-q"], cwd=root, check=True)
        kept = [s for s in names if s not in release]
        subprocess.run([*git, "add", "--", *kept], cwd=root, check=True)
        subprocess.run([*git, "commit", "-q", "-m", "base"], cwd=root, check=True)
        return [
            f
            for f in run_zdlint(root, ["--diff-base", "HEAD"], cwd=root)
            if names[Path(str(f["path"])).resolve().relative_to(root.resolve()).as_posix()] == file
        ]


def run_zdlint(
    folder: Path, options: list[str] | None = None, cwd: Path | None = None
) -> list[dict[str, object]]:
    command = [
        sys.executable,
        "-m",
        "zdlint",
        "check",
        "--no-cache",
        "--exit-zero",
        "--output-format",
        "json",
        *(options or []),
        str(folder),
    ]
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(
            filter(None, [str(HERE.parents[1]), os.environ.get("PYTHONPATH")])
        ),
    )
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=cwd, env=env)
    if done.returncode != 0:
        raise SystemExit(f"zdlint failed on {folder} ({done.returncode}):\n{done.stderr}")
    findings: list[dict[str, object]] = json.loads(done.stdout)["findings"]
    return findings


def names(message: str) -> tuple[str | None, str]:
    """The first lock mode a message names, and the message for table look-ups."""
    found = _MODE_PATTERN.search(message)
    return (found.group(1) if found else None), message


def _match(
    labels: list[Label], used: set[int], code: str, line: int, spans: list[tuple[int, int]]
) -> int | None:
    """The label of a finding: same code and line, else same code in the same statement."""
    free = [i for i, lab in enumerate(labels) if i not in used and lab.code == code]
    for i in free:
        if labels[i].line == line:
            return i
    where = statement_of(spans, line)
    for i in free:
        if statement_of(spans, labels[i].line) == where:
            return i
    return None


_QUOTED = re.compile(r"`([^`]+)`")


def names_table(message: str, table: str) -> bool:
    """True when a backquoted name in the message is the table: `t`, `schema.t`, `t.column`
    or a word of quoted SQL (`UPDATE t`).

    An index named after its table (`t_col_idx`) does not name the table.
    """
    return any(table in re.split(r"[.\s]+", quoted) for quoted in _QUOTED.findall(message))


def judge(label: Label, message: str) -> str:
    if label.verdict == "FALSE":
        return "false"
    lock, text = names(message)
    if label.lock != "-" and lock != label.lock:
        return "wrong-message"
    if label.table != "-" and not names_table(text, label.table):
        return "wrong-message"
    return "true"


@dataclass
class Outcome:
    """What the labelled set says of zdlint's findings today."""

    by_rule: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    lost: list[Label] = field(default_factory=list)
    unlabelled: list[tuple[str, str, int, str, str]] = field(default_factory=list)
    wrong: list[tuple[Label, str]] = field(default_factory=list)
    false_left: list[Label] = field(default_factory=list)
    missed_found: list[Missed] = field(default_factory=list)
    missed_left: list[Missed] = field(default_factory=list)

    @property
    def totals(self) -> Counter[str]:
        total = Counter[str]()
        for counts in self.by_rule.values():
            total.update(counts)
        return total

    @property
    def judged(self) -> int:
        t = self.totals
        return t["true"] + t["false"] + t["wrong-message"]

    @property
    def precision(self) -> float:
        return self.totals["true"] / self.judged if self.judged else 0.0


def evaluate(corpus: Path, folders: list[Path] | None = None) -> Outcome:
    """Run zdlint on every labelled project and hold each finding against its label."""
    out = Outcome()
    for folder in folders or project_folders():
        files, labels, missed = load_project(folder)
        by_file = project_findings(corpus, folder.name)
        for name, first in load_releases(folder):
            by_file[name] = release_findings(corpus, folder.name, name, first)
        for name in files:
            spans = statement_lines(corpus / folder.name / name)
            pending = [lab for lab in labels if lab.file == name]
            used: set[int] = set()
            for f in by_file.get(name, []):
                code, line = str(f["code"]), int(str(f["line"]))
                index = _match(pending, used, code, line, spans)
                if index is None:
                    out.unlabelled.append((folder.name, name, line, code, str(f["message"])))
                    out.by_rule[code]["unlabelled"] += 1
                    continue
                used.add(index)
                label = pending[index]
                result = judge(label, str(f["message"]))
                out.by_rule[code][result] += 1
                if result == "wrong-message":
                    out.wrong.append((label, str(f["message"])))
                elif result == "false":
                    out.false_left.append(label)
            for index, label in enumerate(pending):
                if index not in used and label.verdict == "TRUE":
                    out.lost.append(label)
                    out.by_rule[label.code]["lost"] += 1
        for hazard in missed:
            spans = statement_lines(corpus / folder.name / hazard.file)
            where = statement_of(spans, hazard.line)
            hit = any(
                str(f["code"]) in hazard.codes and statement_of(spans, int(str(f["line"]))) == where
                for f in by_file.get(hazard.file, [])
            )
            (out.missed_found if hit else out.missed_left).append(hazard)
    return out


def project_folders() -> list[Path]:
    return sorted(p for p in HERE.iterdir() if (p / "files.tsv").exists())


def report(out: Outcome, details: bool) -> None:
    print(f"{'rule':<7} {'true':>5} {'false':>5} {'wrong':>5} {'lost':>5} {'new':>5}  precision")
    for rule in sorted(out.by_rule):
        print(_row(rule, out.by_rule[rule]))
    totals = out.totals
    print(_row("all", totals))
    hazards = len(out.missed_found) + len(out.missed_left)
    print(
        f"\nlabelled findings reported: {out.judged}; precision {out.precision:.1%}"
        f" (goal {GOAL:.0%}); labelled TRUE findings no longer reported: {totals['lost']};"
        f" unlabelled findings in sampled files: {totals['unlabelled']}"
    )
    print(f"missed hazards now found: {len(out.missed_found)} of {hazards}")
    if not details:
        return
    for label, message in out.wrong:
        print(f"WRONG  {label.project}/{label.file}:{label.line} {label.code}: {message}")
        print(f"       expected lock {label.lock}, table {label.table}")
    for label in out.false_left:
        print(f"FALSE  {label.project}/{label.file}:{label.line} {label.code}: {label.reason}")
    for label in out.lost:
        print(f"LOST   {label.project}/{label.file}:{label.line} {label.code}: {label.reason}")
    for project, name, line, code, message in out.unlabelled:
        print(f"NEW    {project}/{name}:{line} {code}: {message}")
    for hazard in out.missed_left:
        codes = "|".join(hazard.codes)
        print(f"MISSED {hazard.project}/{hazard.file}:{hazard.line} {codes}: {hazard.reason}")


def _row(rule: str, c: Counter[str]) -> str:
    judged = c["true"] + c["false"] + c["wrong-message"]
    share = f"{c['true'] / judged:.1%}" if judged else "-"
    return (
        f"{rule:<7} {c['true']:>5} {c['false']:>5} {c['wrong-message']:>5} {c['lost']:>5}"
        f" {c['unlabelled']:>5}  {share}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--details", action="store_true", help="list every non-TRUE outcome")
    parser.add_argument("--strict", action="store_true", help="exit 1 below the goal")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        raise SystemExit(f"no corpus at {args.corpus} (give --corpus)")
    out = evaluate(args.corpus)
    report(out, args.details)
    if args.strict and (out.precision < GOAL or out.unlabelled):
        sys.exit(1)


if __name__ == "__main__":
    main()
