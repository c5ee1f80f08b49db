"""Time `zdlint check` against `squawk` on the same files, paired run by run.

    python benchmarks/run.py [--pairs 7] [--latency-reps 31] [--output benchmarks/RESULTS.md]
                             [--formats default,json,concise] [--sizes 10000,100000]

Workloads: the real-migration corpus (`/work/shared/corpus/sql`, read in place, never
copied), two generated corpora of 10k and 100k statements, and one small migration (the
pre-commit case). Each workload runs in three output formats: each tool's default
(zdlint's code frames, squawk's tty), JSON (`-f json` / `--reporter json`) and one line
per finding (`-f concise` / `--reporter gcc`): the default output is mostly rendering,
the machine outputs show the engines. Each row runs zdlint and squawk alternately
(A B A B …) so that both see the same machine load; the table reports medians and the
median of the paired ratios. Peak RSS is the child's peak RSS (GNU time's %M). Both tools
get the same explicit file list; zdlint runs with `--no-cache` unless the row says
"cached". The one-file rows also run the latency floor, `python -c "import click,
pglast"` (the imports no Python linter on pglast can avoid), in the same pairs, and
report zdlint's time over it.

Not a test: it prints and writes a report; it exits non-zero only when it cannot run.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus_gen import generate  # noqa: E402

DEFAULT_CORPUS = Path("/work/shared/corpus/sql")
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SMALL_MIGRATION = """\
-- Add the archived flag and its index.
SET lock_timeout = '2s';
ALTER TABLE accounts ADD COLUMN archived boolean;
CREATE INDEX CONCURRENTLY accounts_archived_idx ON accounts (archived);
"""
MAX_ARGUMENT_BYTES = 1_500_000  # stay under ARG_MAX; larger file lists are rejected
FLOOR_COMMAND = [sys.executable, "-c", "import click, pglast"]
# Output format name -> (zdlint's options, squawk's options); "default" is each tool's own.
FORMATS = {
    "default": ([], []),
    "json": (["-f", "json"], ["--reporter", "json"]),
    "concise": (["-f", "concise"], ["--reporter", "gcc"]),
}


@dataclass
class Sample:
    wall: float  # seconds
    cpu: float  # user + system seconds
    rss_kib: int


@dataclass
class Row:
    name: str
    files: int
    statements: int
    zdlint: list[Sample]
    squawk: list[Sample]
    target: str = ""
    floor: list[Sample] | None = None  # `python -c "import click, pglast"`, same pairs

    def ratios(self) -> list[float]:
        return [z.wall / s.wall for z, s in zip(self.zdlint, self.squawk, strict=True)]


GNU_TIME = Path("/usr/bin/time")


def run_once(command: list[str], cwd: Path, env: dict[str, str]) -> Sample:
    """Run `command` to completion; its wall time, CPU time and peak RSS.

    The peak RSS comes from GNU time when it is installed: a child forked from this
    (large) Python process inherits its high-water mark, which would hide a small tool's.
    """
    rss_file = cwd.parent / "rss.txt"
    if GNU_TIME.exists():
        command = [str(GNU_TIME), "-f", "%M", "-o", str(rss_file), *command]
    start = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert process.stderr is not None
    errors = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    process.stderr.close()
    if process.returncode not in (0, 1):  # 1: findings, for both tools
        raise SystemExit(
            f"benchmark: {command[0]} exited with {process.returncode}:\n"
            + errors.decode(errors="replace")[-2000:]
        )
    rss = usage.ru_maxrss
    if GNU_TIME.exists():
        rss = int(rss_file.read_text().split()[-1])
    return Sample(wall, usage.ru_utime + usage.ru_stime, rss)


def paired(
    commands: list[list[str]], cwd: Path, env: dict[str, str], pairs: int
) -> list[list[Sample]]:
    """Run the commands in turn (A B C A B C …), `pairs` times each; their samples."""
    for command in commands:  # warm the OS page cache and Python's bytecode cache
        run_once(command, cwd, env)
    samples: list[list[Sample]] = [[] for _ in commands]
    for _ in range(pairs):
        for command, taken in zip(commands, samples, strict=True):
            taken.append(run_once(command, cwd, env))
    return samples


def count_statements(files: list[Path]) -> int:
    """Statements as zdlint's parser splits them (syntax errors count as one each)."""
    from zdlint.source import SourceText, UndecodableFile, decode
    from zdlint.sql.parse import parse_statements

    total = 0
    for path in files:
        try:
            text = decode(path.read_bytes())
        except UndecodableFile:
            continue
        total += len(parse_statements(SourceText(text)))
    return total


def sql_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.sql") if p.is_file())


def check_argument_size(files: list[Path]) -> None:
    size = sum(len(str(p)) + 1 for p in files)
    if size > MAX_ARGUMENT_BYTES:
        raise SystemExit(f"benchmark: the file list is {size} bytes, over the argument limit")


def find_tool(name: str) -> str:
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        raise SystemExit(f"benchmark: `{name}` is not installed (pip install -e '.[bench]')")
    return found


def machine() -> dict[str, str]:
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cpu": model, "cores": str(cores), "os": platform.platform()}


def versions(squawk: str) -> dict[str, str]:
    import pglast

    import zdlint

    out = subprocess.run([squawk, "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "python": platform.python_version(),
        "zdlint": zdlint.__version__,
        "pglast": pglast.__version__,
        "squawk": out.removeprefix("squawk ").strip(),
    }


def child_environment(pycache: Path) -> dict[str, str]:
    """Like a user's shell: bytecode is cached (in a private prefix), no colour."""
    dropped = ("PYTHONDONTWRITEBYTECODE", "FORCE_COLOR")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update({"PYTHONPYCACHEPREFIX": str(pycache), "NO_COLOR": "1"})
    return env


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def mib(kib: float) -> str:
    return f"{kib / 1024:.1f} MiB"


def summarise(row: Row) -> dict[str, str]:
    z_wall = statistics.median(s.wall for s in row.zdlint)
    s_wall = statistics.median(s.wall for s in row.squawk)
    z_cpu = statistics.median(s.cpu for s in row.zdlint)
    s_cpu = statistics.median(s.cpu for s in row.squawk)
    over_floor = "–"
    if row.floor:
        floor = statistics.median(s.wall for s in row.floor)
        pairs = zip(row.zdlint, row.floor, strict=True)
        over = statistics.median(z.wall - f.wall for z, f in pairs)
        over_floor = f"{ms(floor)} + {ms(over)}"
    return {
        "workload": row.name,
        "files": f"{row.files:,}",
        "statements": f"{row.statements:,}",
        "zdlint": ms(z_wall),
        "squawk": ms(s_wall),
        "ratio": f"{statistics.median(row.ratios()):.2f}×",
        "cpu ratio": f"{z_cpu / s_cpu:.2f}×" if s_cpu else "–",
        "zdlint stmt/s": f"{row.statements / z_wall:,.0f}",
        "squawk stmt/s": f"{row.statements / s_wall:,.0f}",
        "zdlint RSS": mib(max(s.rss_kib for s in row.zdlint)),
        "squawk RSS": mib(max(s.rss_kib for s in row.squawk)),
        "floor + zdlint over it": over_floor,
        "target": row.target,
    }


def table(rows: list[dict[str, str]]) -> str:
    head = list(rows[0])
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(r[h] for h in head) + " |" for r in rows]
    return "\n".join(lines)


def baseline_section(earlier: str) -> str:
    """The run line, the table and the scaling line of an earlier report, as a section."""
    lines = earlier.splitlines()
    facts = [line for line in lines if line.startswith(("- zdlint:", "- run:"))]
    rows = [line for line in lines if line.startswith("|")]
    scaling = [line for line in lines if line.startswith("Scaling")]
    return "\n".join(["## Before (baseline run)", "", *facts, "", *rows, "", *scaling, ""])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--pairs", type=int, default=7, help="paired runs per workload (≥5)")
    parser.add_argument("--latency-reps", type=int, default=31)
    parser.add_argument("--sizes", default="10000,100000", help="generated corpus sizes")
    parser.add_argument(
        "--formats", default=",".join(FORMATS), help=f"output formats: {', '.join(FORMATS)}"
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="an earlier report of this script (before a change): its run line and table"
        " are kept in this report, under the new ones",
    )
    parser.add_argument(
        "--zdlint", help="command that runs zdlint (default: the installed `zdlint`)"
    )
    args = parser.parse_args()
    if args.pairs < 5:
        parser.error("--pairs must be at least 5")
    if not args.corpus.is_dir():
        print(
            f"benchmark: the corpus {args.corpus} is missing; it holds the real migrations"
            " the budgets are measured on (pass --corpus PATH)",
            file=sys.stderr,
        )
        return 2
    corpus_files = sql_files(args.corpus)
    if not corpus_files:
        print(f"benchmark: no .sql files under {args.corpus}", file=sys.stderr)
        return 2

    zdlint_bin = shlex.split(args.zdlint) if args.zdlint else [find_tool("zdlint")]
    squawk_bin = find_tool("squawk")
    help_text = subprocess.run([*zdlint_bin, "check", "--help"], capture_output=True, text=True)
    has_cache = "--no-cache" in help_text.stdout  # older builds have no findings cache
    sizes = [int(s) for s in args.sizes.split(",") if s]
    formats = [f for f in args.formats.split(",") if f]
    if unknown := set(formats) - set(FORMATS):
        parser.error(f"unknown --formats {', '.join(sorted(unknown))}")
    rows: list[Row] = []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="zdlint-bench-") as tmp_name:
        tmp = Path(tmp_name)
        cwd = tmp / "cwd"  # no config file here or above for either tool
        cwd.mkdir()
        env = child_environment(tmp / "pycache")

        def compare(
            name: str,
            files: list[Path],
            target: str,
            fmt: str,
            cached: bool = False,
            fresh: bool = False,
            floor: bool = False,
        ) -> Row:
            """`fresh`: each run first appends a comment line to the (single) file, as a
            commit would change it, so no cached findings can answer for it. `floor`: run
            the latency floor in the same pairs."""
            check_argument_size(files)
            paths = [str(p) for p in files]
            no_cache = ["--no-cache"] if has_cache and not cached else []
            z_format, s_format = FORMATS[fmt]
            z_command = [*zdlint_bin, "check", *no_cache, *z_format, *paths]
            s_command = [squawk_bin, "--pg-version=15.0", *s_format, *paths]
            if fresh:
                touch = f'echo "-- $$" >> {shlex.quote(paths[0])} && exec "$@"'
                z_command = ["/bin/sh", "-c", touch, "sh", *z_command]
                s_command = ["/bin/sh", "-c", touch, "sh", *s_command]
            if fmt != "default":
                name = f"{name}, {fmt}"
            print(f"… {name}: {len(files)} files", file=sys.stderr, flush=True)
            commands = [z_command, s_command] + ([FLOOR_COMMAND] if floor else [])
            samples = paired(commands, cwd, env, args.pairs)
            row = Row(name, len(files), statements(files), samples[0], samples[1], target)
            row.floor = samples[2] if floor else None
            rows.append(row)
            print("  " + ", ".join(f"{k}={v}" for k, v in summarise(row).items()), file=sys.stderr)
            return row

        counted: dict[tuple[Path, ...], int] = {}

        def statements(files: list[Path]) -> int:
            key = tuple(files)
            if key not in counted:
                counted[key] = count_statements(files)
            return counted[key]

        machine_target = {"json": "cpu ratio ≤ 1.3×", "concise": "cpu ratio ≤ 1.3×"}
        for fmt in formats:
            target = machine_target.get(fmt, "") + ("" if fmt == "default" else ", RSS ≤ 64 MiB")
            compare("real corpus", corpus_files, target.strip(", "), fmt)
            if has_cache and fmt != "default":
                compare("real corpus, cached", corpus_files, "cpu ratio ≤ 0.7×", fmt, cached=True)
        generated: dict[int, Row] = {}
        for size in sizes:
            folder = tmp / f"generated-{size}"
            generate(folder, size)
            for fmt in formats:
                target = "RSS ≤ 64 MiB" if size >= 100_000 and fmt != "default" else ""
                row = compare(f"generated {size // 1000}k", sql_files(folder), target, fmt)
                if fmt == "json" or size not in generated:
                    generated[size] = row  # scaling is measured on JSON output

        small = tmp / "small" / "V42__add_archived_flag.sql"
        small.parent.mkdir()
        small.write_text(SMALL_MIGRATION)
        latency_pairs = max(args.latency_reps, args.pairs)
        saved_pairs, args.pairs = args.pairs, latency_pairs
        for fmt in formats:
            compare("one file", [small], "over floor ≤ 15 ms", fmt, floor=True)
        if has_cache:
            compare("one file, cached", [small], "", formats[0], cached=True, floor=True)
            # pre-commit in a long-lived project: one new migration after hundreds
            biggest = max(
                {p.parent for p in corpus_files},
                key=lambda folder: sum(1 for p in corpus_files if p.parent == folder),
            )
            history = tmp / "history" / biggest.name
            shutil.copytree(biggest, history)
            earlier = len(sql_files(history))
            new = history / "99999999999999_new_migration.sql"
            new.write_text(SMALL_MIGRATION)
            compare(
                f"new file after {earlier} migrations",
                [new],
                "",
                formats[0],
                cached=True,
                fresh=True,
            )
        args.pairs = saved_pairs
    load_after = os.getloadavg()
    summaries = [summarise(r) for r in rows]
    linear = ""
    if len(sizes) >= 2:
        small_size, big_size = sizes[0], sizes[-1]
        z_small = statistics.median(s.wall for s in generated[small_size].zdlint)
        z_big = statistics.median(s.wall for s in generated[big_size].zdlint)
        s_small = statistics.median(s.wall for s in generated[small_size].squawk)
        s_big = statistics.median(s.wall for s in generated[big_size].squawk)
        linear = (
            f"Scaling {big_size // 1000}k / {small_size // 1000}k statements"
            f" ({'json' if 'json' in formats else formats[0]} output): zdlint"
            f" {z_big / z_small:.2f}× (target ≤ {big_size / small_size * 1.1:.0f}×),"
            f" squawk {s_big / s_small:.2f}×."
        )
    facts = {**machine(), **versions(squawk_bin)}
    report = "\n".join(
        [
            "# zdlint vs squawk",
            "",
            "Written by `python benchmarks/run.py`; do not edit by hand.",
            "",
            *[f"- {key}: {value}" for key, value in facts.items()],
            f"- run: {time.strftime('%Y-%m-%d %H:%M')}, {args.pairs} pairs per corpus,"
            f" {latency_pairs} for one file; load average"
            f" {load_before[0]:.2f} before, {load_after[0]:.2f} after",
            "",
            table(summaries),
            "",
            linear,
            "",
            "Times are medians of paired runs (zdlint, squawk, zdlint, squawk, …); *ratio* is",
            "the median of the per-pair ratios of zdlint's wall time to squawk's, *cpu ratio*",
            "the same for user + system time. RSS is the largest peak RSS of a run (GNU time's",
            "%M: the biggest single process; pool workers are processes of their own). Both",
            "tools get the same explicit file list; squawk runs with `--pg-version=15.0`",
            "(zdlint's default). zdlint runs with `--no-cache` except in the *cached* rows;",
            "in *new file after N migrations* each run first appends a comment to the file (so",
            "its findings are never cached) and zdlint's cache is on, as in a pre-commit hook:",
            "the earlier migrations' schema comes from a snapshot instead of a replay.",
            "Python bytecode is cached as on a user's machine. Machine load skews wall times",
            "(see the load average): the paired ratios and the CPU ratio are what to compare.",
            "Rows named *, json* and *, concise* are machine output on both sides",
            "(`-f json` vs `--reporter json`, `-f concise` vs `--reporter gcc`); the others",
            "are each tool's default output. *floor + zdlint over it*: the median time of",
            '`python -c "import click, pglast"` run in the same pairs, and the median of',
            "zdlint's time minus the floor's, pair by pair.",
            "",
        ]
    )
    if args.baseline is not None:
        report += "\n" + baseline_section(args.baseline.read_text(encoding="utf-8"))
    print(report)
    if not args.no_write:
        args.output.write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
