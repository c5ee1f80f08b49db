"""Round trip of `zdlint fix` on a real PostgreSQL over the corpus's fixable findings.

For each project of ../shared/corpus/sql, laid out again in its real repository layout
(from MANIFEST.tsv, as benchmarks/precision/score.py does), every migration is fixed in
history order, with the schema of the earlier migrations. For each file whose findings
`zdlint fix` rewrites:

1. a database holding every earlier migration, applied the way the project's tool runs
   files (zdlint.sql.tools: one batch in the tool's transaction, PostgreSQL's implicit
   block, or statement by statement), is cloned and the tables the file touches are
   seeded with rows (zdlint.pg.seed);
2. two copies of it get (a) the original file and (b) the fixed files (the rewritten file,
   the new migrations after it and the contract files, in that order), each file run the
   way its tool runs it;
3. both must apply; pg_dump --schema-only of both must match (normalised: comments and
   settings dropped, objects sorted; column order only where the plan says it moves a
   column); the touched tables must keep every row and the same values (row count, and per
   column the count of non-null values and a checksum; columns the migration adds with a
   volatile default are compared by count only);
4. the fixed files must lint clean of the rules that were fixed, and a second
   `zdlint fix` over them must change nothing.

When the original cannot run on seeded rows (e.g. ADD COLUMN … NOT NULL without a
default), both sides run on empty tables instead (its evident intent) and the case says so.
A file whose original does not apply at all on this replay is "not applicable". Findings
the fix declines are "refused" with its reason.

Run:  python benchmarks/fix_roundtrip/run.py [--corpus DIR] [--project NAME]…
          [--sample N] [--rows N] [--json FILE] [--details]
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
# ../shared/corpus beside the checkout (or beside the folder of worktrees holding it)
DEFAULT_CORPUS = next(
    (
        folder / "shared" / "corpus" / "sql"
        for folder in REPO.parents
        if (folder / "shared" / "corpus" / "sql" / "MANIFEST.tsv").exists()
    ),
    REPO.parent / "shared" / "corpus" / "sql",
)
PROJECTS = ("lemmy", "trigger.dev", "langfuse", "formbricks", "documenso")
SEED_ROWS = 2_500  # more than two batches of the default 1000

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE.parent / "precision"))

from score import lay_out  # noqa: E402

from zdlint.catalogue import Catalogue, load_catalogue  # noqa: E402
from zdlint.config import Settings, command_settings  # noqa: E402
from zdlint.fix.fixer import FileFix, FixRefused, fix_text  # noqa: E402
from zdlint.fix.plan import FixOptions  # noqa: E402
from zdlint.lint import new_history  # noqa: E402
from zdlint.pg.apply import ApplyError, apply_as_tool  # noqa: E402
from zdlint.pg.scratch import drop_database, with_dbname  # noqa: E402
from zdlint.pg.seed import seed_tables  # noqa: E402
from zdlint.pg.server import PgServer, start_server  # noqa: E402
from zdlint.pg.verify import touched_tables  # noqa: E402
from zdlint.source import SourceText  # noqa: E402
from zdlint.sql.history import History, migration_sequence  # noqa: E402
from zdlint.sql.parse import Statement, parse_statements  # noqa: E402
from zdlint.sql.schema import SchemaModel  # noqa: E402
from zdlint.sql.tools import layout_for_statements  # noqa: E402

PASSED, REFUSED, FAILED, NOT_APPLICABLE = "passed", "refused", "failed", "not applicable"


@dataclass
class Outcome:
    """One fixable finding's fate (findings fixed together share their file's outcome)."""

    project: str
    tool: str
    file: str
    rule: str
    status: str
    detail: str = ""


@dataclass
class FileCase:
    project: str
    tool: str
    file: str
    fixed: list[str]  # codes of the findings the fix rewrote
    status: str = PASSED
    detail: str = ""
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


# --- running files the way their tool does --------------------------------------------


# --- databases ---------------------------------------------------------------------------


class Databases:
    """Clones of the running migration history on one server."""

    def __init__(self, server: PgServer) -> None:
        self.server = server
        self.admin = server.dsn()
        self._count = 0

    def dsn(self, name: str) -> str:
        return with_dbname(self.admin, name)

    def create(self, template: str | None = None) -> str:
        self._count += 1
        name = f"rt_{self._count}"
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            # a file copy: far quicker than WAL_LOG's block by block for these databases
            query += sql.SQL(" TEMPLATE {} STRATEGY FILE_COPY").format(sql.Identifier(template))
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(query)
        return name

    def drop(self, name: str) -> None:
        drop_database(self.admin, name)

    def dump(self, name: str) -> str:
        result = subprocess.run(
            [str(self.server.bindir / "pg_dump"), "--schema-only", "--no-owner", self.dsn(name)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            raise RuntimeError(f"pg_dump failed: {result.stderr.strip()}")
        return result.stdout


# `'now'::timestamp` in a view is frozen when the view is made: a different instant per run
_INSTANT = re.compile(r"'\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?(?:[+-]\d\d(?::\d\d)?)?'")
_VOLATILE_DEFAULT = re.compile(r"\(|\bCURRENT_|\bLOCALTIME", re.I)


def normalised_schema(dump: str, any_column_order: bool) -> list[str]:
    """pg_dump output as a sorted list of object definitions, without comments, settings
    and psql meta-commands, instants frozen into views masked; with `any_column_order`,
    CREATE TABLE lists its columns sorted."""
    blocks: list[str] = []
    current: list[str] = []
    for line in dump.splitlines():
        if line.startswith("--") or line.startswith("\\"):
            if current:
                blocks.append("\n".join(current))
                current = []
            continue
        if not line.strip() or line.startswith("SET ") or "pg_catalog.set_config" in line:
            continue
        current.append(_INSTANT.sub("'<instant>'", line))
    if current:
        blocks.append("\n".join(current))
    if any_column_order:
        blocks = [_sorted_columns(b) for b in blocks]
    return sorted(blocks)


def _sorted_columns(block: str) -> str:
    if not block.startswith("CREATE TABLE"):
        return block
    lines = block.split("\n")
    if len(lines) < 3:
        return block
    body = sorted(line.rstrip(",") for line in lines[1:-1])
    return "\n".join([lines[0], *body, lines[-1]])


def schema_difference(a: list[str], b: list[str]) -> str:
    """Where the two schemas differ: the first differing definitions, from the first
    character where they part."""
    only_a = [x for x in a if x not in b]
    only_b = [x for x in b if x not in a]
    if only_a and only_b:
        first, second = " ".join(only_a[0].split()), " ".join(only_b[0].split())
        at = next(
            (i for i, (x, y) in enumerate(zip(first, second, strict=False)) if x != y),
            min(len(first), len(second)),
        )
        start = max(0, at - 60)
        return (
            f"{len(only_a)} definition(s) differ; original: …{first[start : at + 100]}… "
            f"fixed: …{second[start : at + 100]}…"
        )
    if only_a:
        return "original only: " + " | ".join(_short(x) for x in only_a[:3])
    return "fixed only: " + " | ".join(_short(x) for x in only_b[:3])


def _short(block: str) -> str:
    text = " ".join(block.split())
    return text if len(text) <= 160 else text[:157] + "..."


TableDigest = dict[str, tuple[int, dict[str, tuple[int, str]]]]


def table_digests(conn: psycopg.Connection, tables: list[str]) -> TableDigest:
    """For each table: its row count and, per column, (non-null count, checksum)."""
    digests: TableDigest = {}
    for table in tables:
        row = conn.execute("SELECT to_regclass(%s)::oid", (table,)).fetchone()
        if row is None or row[0] is None:
            continue
        columns = [
            r[0]
            for r in conn.execute(
                "SELECT attname FROM pg_attribute WHERE attrelid = %s AND attnum > 0 "
                "AND NOT attisdropped ORDER BY attnum",
                (row[0],),
            )
        ]
        pieces = [sql.SQL("count(*)")]
        for column in columns:
            ident = sql.Identifier(column)
            pieces.append(sql.SQL("count({})").format(ident))
            pieces.append(
                sql.SQL(
                    "md5(coalesce(string_agg({c}::text, chr(31) ORDER BY {c}::text), ''))"
                ).format(c=ident)
            )
        query = sql.SQL("SELECT {} FROM {}").format(sql.SQL(", ").join(pieces), sql.SQL(table))
        values = conn.execute(query).fetchone()
        assert values is not None
        per_column = {
            column: (values[1 + 2 * i], values[2 + 2 * i]) for i, column in enumerate(columns)
        }
        digests[table] = (values[0], per_column)
    return digests


def new_volatile_columns(conn: psycopg.Connection, before: TableDigest) -> set[tuple[str, str]]:
    """Columns the migration added whose default is not a constant: their values differ
    between two runs of the same migration, so only their counts are compared."""
    found: set[tuple[str, str]] = set()
    for table in before:
        for column, default in conn.execute(
            "SELECT a.attname, coalesce(pg_get_expr(d.adbin, d.adrelid), "
            "CASE WHEN a.attidentity <> '' THEN 'identity()' END) "
            "FROM pg_attribute a LEFT JOIN pg_attrdef d "
            "ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
            "WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped",
            (table,),
        ):
            if column not in before[table][1] and default and _VOLATILE_DEFAULT.search(default):
                found.add((table, column))
    return found


def changing_columns(first: TableDigest, second: TableDigest) -> set[tuple[str, str]]:
    """Columns whose values differ between two runs of the same migration."""
    return {
        (table, column)
        for table, (_, columns) in first.items()
        for column, digest in columns.items()
        if table in second and second[table][1].get(column, digest) != digest
    }


def data_difference(
    original: TableDigest, fixed: TableDigest, volatile: set[tuple[str, str]]
) -> str:
    problems = []
    for table, (rows, columns) in original.items():
        if table not in fixed:
            continue
        fixed_rows, fixed_columns = fixed[table]
        if fixed_rows != rows:
            problems.append(f"{table}: {rows} rows after the original, {fixed_rows} after the fix")
            continue
        for column, (count, checksum) in columns.items():
            if column not in fixed_columns:
                continue
            fixed_count, fixed_checksum = fixed_columns[column]
            if fixed_count != count:
                problems.append(
                    f"{table}.{column}: {count} non-null values after the original, "
                    f"{fixed_count} after the fix"
                )
            elif fixed_checksum != checksum and (table, column) not in volatile:
                problems.append(f"{table}.{column}: values differ from the original's")
    return "; ".join(problems[:4])


# --- one project ---------------------------------------------------------------------------


@dataclass
class Project:
    name: str
    root: Path
    settings: Settings
    catalogue: Catalogue
    options: FixOptions


def sequences(root: Path, names: list[str]) -> list[list[Path]]:
    """Each migration folder's files in the order its tool runs them."""
    seen: dict[Path, list[Path]] = {}
    for name in names:
        path = root / name
        if not name.endswith(".sql"):
            continue
        folder, files = migration_sequence(path)
        seen.setdefault(folder, files)
    return list(seen.values())


def fixed_outputs(fix: FileFix) -> list[tuple[Path, str]]:
    return [(o.path, o.text) for o in fix.outputs if o.path.name.endswith(".sql")]


@contextmanager
def written(fix: FileFix) -> Iterator[None]:
    """The fix's outputs on disk for the length of the block, then the tree as it was."""
    created: list[Path] = []
    restore: list[tuple[Path, str]] = []
    try:
        for output in fix.outputs:
            if output.original is not None:
                restore.append((output.path, output.original))
            else:
                missing = output.path.parent
                while not missing.exists():
                    created.append(missing)
                    missing = missing.parent
                created.append(output.path)
            output.path.parent.mkdir(parents=True, exist_ok=True)
            output.path.write_text(output.text, encoding="utf-8")
        yield
    finally:
        for path in reversed(created):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            elif path.exists():
                path.unlink()
        for path, text in restore:
            path.write_text(text, encoding="utf-8")


def second_fix(project: Project, fix: FileFix, model: SchemaModel) -> tuple[list[str], list[str]]:
    """(codes of fixable findings left in the fixed files, files a second fix changes)."""
    left: list[str] = []
    changed: list[str] = []
    for path, text in fixed_outputs(fix):
        display = path.relative_to(project.root).as_posix()
        try:
            again = fix_text(
                display, path, text, project.settings, project.catalogue, project.options, model
            )
        except FixRefused as exc:
            changed.append(f"{display} (refused: {exc})")
            continue
        left += [f.code for f in again.fixed] + [f.code for f, _ in again.unfixable]
        if again.changed:
            changed.append(display)
    return left, changed


def round_trip(
    project: Project,
    dbs: Databases,
    progress_db: str,
    path: Path,
    text: str,
    fix: FileFix,
    model: SchemaModel,
    rows: int,
) -> tuple[str, str, list[str]]:
    """(status, detail, notes) of one fixed file."""
    notes: list[str] = []
    statements = [s for s in parse_statements(SourceText(text)) if s.node is not None]
    reorders = any(p.reorders_columns for p in fix.plans)
    with written(fix):
        outcome = _apply_both(dbs, progress_db, path, text, fix, statements, rows, reorders)
        if outcome[0] == NOT_APPLICABLE or outcome[0] == FAILED:
            return outcome[0], outcome[1], outcome[2]
        notes += outcome[2]
        unfixed = Counter(f.code for f, _ in fix.unfixable)
        left, changed = second_fix(project, fix, model)
        fixed_codes = {f.code for f in fix.fixed}
        dirty = sorted(
            code for code, n in Counter(left).items() if code in fixed_codes and n > unfixed[code]
        )
    if dirty:
        return FAILED, "the fixed files still report " + ", ".join(dirty), notes
    if changed:
        return FAILED, "a second zdlint fix changes " + ", ".join(changed), notes
    return PASSED, "", notes


def _apply_both(
    dbs: Databases,
    progress_db: str,
    path: Path,
    text: str,
    fix: FileFix,
    statements: list[Statement],
    rows: int,
    reorders: bool,
) -> tuple[str, str, list[str]]:
    notes: list[str] = []
    for attempt_rows in (rows, 0):
        made: list[str] = []
        try:
            # the seed is a function of the row number: both copies get the same rows
            original, tables, notes = _seeded_copy(dbs, progress_db, statements, attempt_rows)
            made.append(original)
            fixed = _seeded_copy(dbs, progress_db, statements, attempt_rows)[0]
            made.append(fixed)
            with psycopg.connect(dbs.dsn(original), autocommit=True) as conn:
                before = table_digests(conn, tables)
                try:
                    apply_as_tool(conn, path, text)
                except ApplyError as exc:
                    if attempt_rows:
                        notes = [f"the original fails on seeded rows ({exc}): compared empty"]
                        continue
                    return NOT_APPLICABLE, f"the original does not apply: {exc}", notes
                after_original = table_digests(conn, list(before))
                volatile = new_volatile_columns(conn, before)
            with psycopg.connect(dbs.dsn(fixed), autocommit=True) as conn:
                try:
                    for out_path, out_text in fixed_outputs(fix):
                        apply_as_tool(conn, out_path, out_text)
                except ApplyError as exc:
                    return FAILED, f"the fixed files fail: {exc}", notes
                after_fixed = table_digests(conn, list(before))
            want = normalised_schema(dbs.dump(original), reorders)
            got = normalised_schema(dbs.dump(fixed), reorders)
            if want != got:
                return FAILED, "schemas differ: " + schema_difference(want, got), notes
            lost = data_difference(after_original, after_fixed, volatile)
            if lost:
                # values the original itself makes differently on each run (now(), random
                # ids in an UPDATE) are not the fix's doing: run it once more, compare
                again = _seeded_copy(dbs, progress_db, statements, attempt_rows)[0]
                made.append(again)
                with psycopg.connect(dbs.dsn(again), autocommit=True) as conn:
                    apply_as_tool(conn, path, text)
                    volatile |= changing_columns(after_original, table_digests(conn, list(before)))
                lost = data_difference(after_original, after_fixed, volatile)
            if lost:
                return FAILED, "data differs: " + lost, notes
            return PASSED, "", notes
        finally:
            for name in made:
                dbs.drop(name)
    raise AssertionError("unreachable")


def _seeded_copy(
    dbs: Databases, progress_db: str, statements: list[Statement], rows: int
) -> tuple[str, list[str], list[str]]:
    """A copy of the history so far with `rows` rows in each table the statements touch:
    (database, the touched tables, notes on tables that could not be seeded)."""
    name = dbs.create(progress_db)
    with psycopg.connect(dbs.dsn(name), autocommit=True) as conn:
        oids = touched_tables(conn, statements)
        tables = [
            r[0] for oid in oids for r in conn.execute("SELECT %s::oid::regclass::text", (oid,))
        ]
        notes = []
        if rows:
            report = seed_tables(conn, rows, tables=oids)
            notes = [f"not seeded: {t}: {why}" for t, why in report.skipped]
    return name, tables, notes


def run_project(
    corpus: Path,
    name: str,
    server: PgServer,
    rows: int,
    chosen: Callable[[str], bool],
    report: Callable[[str], None],
) -> tuple[list[FileCase], list[Outcome]]:
    """Fix and round-trip the chosen files of one project (every earlier migration is
    still applied, so each chosen file meets the schema it was written for)."""
    catalogue = load_catalogue()
    settings = command_settings(catalogue, config_path=None, isolated=True)
    cases: list[FileCase] = []
    outcomes: list[Outcome] = []
    dbs = Databases(server)
    with tempfile.TemporaryDirectory(prefix="zdlint-roundtrip-") as tmp:
        root = Path(tmp) / name
        names = lay_out(corpus, name, root)
        project = Project(name, root, settings, catalogue, FixOptions())
        history = new_history(settings)
        for files in sequences(root, sorted(names)):
            wanted = [chosen(f.relative_to(root).as_posix()) for f in files]
            last = max((i for i, w in enumerate(wanted) if w), default=-1)
            progress_db = dbs.create()
            broken: str | None = None
            for path, want in zip(files[: last + 1], wanted, strict=False):
                display = path.relative_to(root).as_posix()
                text = path.read_text(encoding="utf-8")
                if want:
                    case = _fix_file(project, dbs, progress_db, history, path, text, rows, broken)
                    outcomes += case.outcomes
                    if case.file is not None:
                        cases.append(case.file)
                        report(f"{case.file.status:>14}  {display}  {case.file.detail[:200]}")
                    # the fix applied it to the model; a file not fixed is replayed
                    # by the next model_before (checked() would skip it)
                    history.checked(path)
                if broken is None:
                    with psycopg.connect(dbs.dsn(progress_db), autocommit=True) as conn:
                        try:
                            apply_as_tool(conn, path, text)
                        except ApplyError as exc:
                            broken = f"an earlier migration does not apply: {display}: {exc}"
                            report(f"history broken at {display}: {exc}")
            dbs.drop(progress_db)
    return cases, outcomes


@dataclass
class _FileResult:
    outcomes: list[Outcome]
    file: FileCase | None  # None when the fix changes nothing


def _fix_file(
    project: Project,
    dbs: Databases,
    progress_db: str,
    history: History,
    path: Path,
    text: str,
    rows: int,
    broken: str | None,
) -> _FileResult:
    name = project.name
    display = path.relative_to(project.root).as_posix()
    parsed = parse_statements(SourceText(text))
    tool = layout_for_statements(path, parsed, text).tool
    model = history.model_before(path)
    pristine = copy.deepcopy(model)
    try:
        fix = fix_text(
            display, path, text, project.settings, project.catalogue, project.options, model
        )
    except FixRefused as exc:
        codes = exc.codes or ("(file)",)
        return _FileResult(
            [Outcome(name, tool, display, c, REFUSED, str(exc)) for c in codes], None
        )
    outcomes = [Outcome(name, tool, display, f.code, REFUSED, why) for f, why in fix.unfixable]
    if not fix.changed:
        return _FileResult(outcomes, None)
    started = time.perf_counter()
    case = FileCase(name, tool, display, [f.code for f in fix.fixed])
    if broken is not None:
        case.status, case.detail = NOT_APPLICABLE, broken
    else:
        case.status, case.detail, case.notes = round_trip(
            project, dbs, progress_db, path, text, fix, pristine, rows
        )
    case.seconds = time.perf_counter() - started
    outcomes += [Outcome(name, tool, display, c, case.status, case.detail) for c in case.fixed]
    return _FileResult(outcomes, case)


def sampler(sample: int | None, only: str | None = None) -> Callable[[str], bool]:
    """All files, or a deterministic 1-in-`sample` choice by a hash of the file name;
    with `only`, just the files whose path contains it."""

    def chosen(name: str) -> bool:
        if only is not None and only not in name:
            return False
        if not sample or sample <= 1:
            return True
        digest = hashlib.sha1(name.encode("utf-8")).digest()
        return int.from_bytes(digest[:4], "big") % sample == 0

    return chosen


def summary(outcomes: list[Outcome], key: Callable[[Outcome], str]) -> str:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for outcome in outcomes:
        counts[key(outcome)][outcome.status] += 1
    statuses = (PASSED, REFUSED, FAILED, NOT_APPLICABLE)
    lines = ["| | " + " | ".join(statuses) + " |", "|---|" + "---:|" * len(statuses)]
    total: Counter[str] = Counter()
    for name in sorted(counts):
        total.update(counts[name])
        lines.append(f"| {name} | " + " | ".join(str(counts[name][s]) for s in statuses) + " |")
    lines.append("| **all** | " + " | ".join(str(total[s]) for s in statuses) + " |")
    return "\n".join(lines)


def write_known(path: Path, failed: list[FileCase]) -> None:
    """The failures, one per file, as tests/test_fix_roundtrip.py reads them."""
    lines = [
        "# Round-trip failures already known (benchmarks/fix_roundtrip/run.py --write-known);",
        "# they belong to the planners (see RESULTS.md). tests/test_fix_roundtrip.py fails on",
        "# any other failure; remove a line once its file passes.",
        "project\tfile\trules\tfailure",
    ]
    for case in sorted(failed, key=lambda c: (c.project, c.file)):
        detail = " ".join(case.detail.split()).replace("\t", " ")
        rules = ",".join(sorted(set(case.fixed)))
        lines.append(f"{case.project}\t{case.file}\t{rules}\t{detail[:300]}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--project", action="append", choices=PROJECTS)
    parser.add_argument("--sample", type=int, help="round-trip about one file in N")
    parser.add_argument("--only", help="round-trip only the files whose path contains this")
    parser.add_argument("--rows", type=int, default=SEED_ROWS)
    parser.add_argument("--json", type=Path, help="write every case and outcome here")
    parser.add_argument("--details", action="store_true", help="print each file as it runs")
    parser.add_argument(
        "--write-known", type=Path, help="write the failures as a known_failures.tsv here"
    )
    args = parser.parse_args(argv)
    if not (args.corpus / "MANIFEST.tsv").exists():
        print(f"{args.corpus}/MANIFEST.tsv not found", file=sys.stderr)
        return 2

    def report(line: str) -> None:
        if args.details:
            print(line, file=sys.stderr, flush=True)

    cases: list[FileCase] = []
    outcomes: list[Outcome] = []
    started = time.perf_counter()
    with start_server() as server:
        for name in args.project or PROJECTS:
            chosen = sampler(args.sample, args.only)
            found, results = run_project(args.corpus, name, server, args.rows, chosen, report)
            cases += found
            outcomes += results
        version = server.version
    elapsed = time.perf_counter() - started
    print(
        f"{len(cases)} fixed files round-tripped on PostgreSQL {version // 10000}.{version % 100}"
        f" in {elapsed:.0f} s\n"
    )
    print("Per tool (findings)\n\n" + summary(outcomes, lambda o: o.tool) + "\n")
    print("Per rule (findings)\n\n" + summary(outcomes, lambda o: o.rule) + "\n")
    files = Counter(c.status for c in cases)
    print("Files: " + ", ".join(f"{files[s]} {s}" for s in (PASSED, FAILED, NOT_APPLICABLE)))
    failed = [c for c in cases if c.status == FAILED]
    if failed:
        print("\nFailures\n")
        for case in failed:
            print(
                f"- {case.project}/{case.file} [{', '.join(sorted(set(case.fixed)))}]: "
                f"{case.detail}"
            )
    if args.write_known:
        write_known(args.write_known, failed)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "cases": [asdict(c) for c in cases],
                    "outcomes": [asdict(o) for o in outcomes],
                    "seconds": round(elapsed, 1),
                },
                indent=1,
            ),
            encoding="utf-8",
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
