"""`zdlint trace`: run migrations on a throwaway PostgreSQL and show what each statement locks."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from zdlint.pg.binaries import NoPostgresError
from zdlint.pg.scratch import DSN_ENV, DatabaseError, mask_dsn
from zdlint.pg.server import PgServer, start_server
from zdlint.pg.trace import TraceError, run_trace
from zdlint.pg.trace_report import TracedFile, render
from zdlint.source import UndecodableFile, decode
from zdlint.sql.tools import file_runs_in_transaction

EXIT_CLEAN, EXIT_FAILED, EXIT_ERROR = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports Ctrl-C
_DOWN = re.compile(r"(^|[._-])down\.sql$", re.IGNORECASE)


class UsageError(Exception):
    """A path or option cannot be used; the message names it."""


def migrations_in(directory: Path) -> list[Path]:
    """The up-migrations under `directory`, in the order a migration tool applies them."""
    files = [p for p in directory.rglob("*.sql") if p.is_file() and not _DOWN.search(p.name)]
    return sorted(files, key=lambda p: _natural_key(p.relative_to(directory).as_posix()))


def _natural_key(text: str) -> list[object]:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


def read_sql(path: Path) -> str:
    try:
        return decode(path.read_bytes())
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a directory, expected a SQL file") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read ({exc.strerror})") from None
    except UndecodableFile as exc:
        raise UsageError(f"{path}: {exc}") from None


def plan(paths: tuple[Path, ...], setup: tuple[Path, ...]) -> list[tuple[list[Path], Path]]:
    """(set-up files, target) for each argument; a directory's last migration is its target."""
    jobs = []
    for path in paths:
        if path.is_dir():
            migrations = migrations_in(path)
            if not migrations:
                raise UsageError(f"{path}: no .sql migrations in this directory")
            jobs.append(([*setup, *migrations[:-1]], migrations[-1]))
        elif path.exists():
            jobs.append((list(setup), path))
        else:
            raise UsageError(f"{path}: no such file or directory")
    return jobs


@contextmanager
def postgres_target(dsn: str | None) -> Iterator[PgServer | str]:
    """The user's DSN (scratch databases are made there) or a server we start."""
    if dsn:
        yield dsn
    else:
        with start_server() as server:
            yield server


@click.command("trace")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--setup",
    "setup",
    multiple=True,
    type=click.Path(path_type=Path),
    help="SQL applied and committed before the target (the schema it assumes). Repeatable.",
)
@click.option(
    "--seed-rows",
    type=click.IntRange(min=0),
    default=10_000,
    show_default=True,
    help="Rows inserted into every table before the target runs.",
)
@click.option(
    "--dsn",
    envvar=DSN_ENV,
    help=f"Run on this server in a scratch database zdlint creates and drops [env: {DSN_ENV}].",
)
@click.option(
    "--output-format",
    "-f",
    type=click.Choice(["full", "json", "markdown"]),
    default="full",
    show_default=True,
)
@click.option(
    "--allow-side-effects",
    is_flag=True,
    help="Run statements that reach outside the database (COPY … PROGRAM, server files).",
)
@click.option(
    "--in-transaction/--no-transaction",
    default=None,
    help="Run the target in one transaction [default: as its migration tool would, detected"
    " from its markers and layout].",
)
@click.option(
    "--timeout",
    "statement_limit",
    type=click.FloatRange(min=0.1),
    default=300.0,
    show_default=True,
    help="Seconds one statement may run before zdlint cancels it (so a stuck migration"
    " cannot hang CI).",
)
def trace(
    paths: tuple[Path, ...],
    setup: tuple[Path, ...],
    seed_rows: int,
    dsn: str | None,
    output_format: str,
    allow_side_effects: bool,
    in_transaction: bool | None,
    statement_limit: float,
) -> None:
    """Run migrations on a real PostgreSQL and report each statement's locks.

    A DIRECTORY argument runs its migrations in name order: all but the last are set-up,
    the last is traced.
    """
    try:
        traced = _trace_all(
            paths, setup, seed_rows, dsn, allow_side_effects, in_transaction, statement_limit
        )
    except KeyboardInterrupt:  # a server zdlint started was stopped as the stack unwound
        click.echo("zdlint: interrupted.", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except (UsageError, NoPostgresError, DatabaseError, TraceError) as exc:
        message = str(exc).replace("\n", " ")
        click.echo(f"zdlint: error: {message}", err=True)
        sys.exit(EXIT_ERROR)
    click.echo(render(traced, output_format))
    failed = any(t.trace.failed is not None for t in traced)
    sys.exit(EXIT_FAILED if failed else EXIT_CLEAN)


def _trace_all(
    paths: tuple[Path, ...],
    setup: tuple[Path, ...],
    seed_rows: int,
    dsn: str | None,
    allow_side_effects: bool,
    in_transaction: bool | None,
    statement_limit: float = 300.0,
) -> list[TracedFile]:
    jobs = plan(paths, setup)
    texts = {p: read_sql(p) for job in jobs for p in [*job[0], job[1]]}  # fail before starting
    results = []
    try:
        with postgres_target(dsn) as target:
            for setup_files, path in jobs:
                result = run_trace(
                    target,
                    [(str(p), texts[p]) for p in setup_files],
                    texts[path],
                    in_transaction=(
                        in_transaction
                        if in_transaction is not None
                        else file_runs_in_transaction(path, texts[path])
                    ),
                    seed_rows=seed_rows,
                    allow_side_effects=allow_side_effects,
                    name=str(path),
                    statement_limit=statement_limit,
                )
                results.append(TracedFile(str(path), tuple(map(str, setup_files)), result))
    except DatabaseError as exc:
        raise DatabaseError(str(exc) if not dsn else str(exc).replace(dsn, mask_dsn(dsn))) from None
    return results
