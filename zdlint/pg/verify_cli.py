"""`zdlint verify`: apply a migration under live traffic and report the write stall."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import click

from zdlint.atomic import write_atomic
from zdlint.pg.binaries import NoPostgresError
from zdlint.pg.load import LoadSettings
from zdlint.pg.progress import ProgressLine
from zdlint.pg.scratch import DSN_ENV, DatabaseError, mask_dsn
from zdlint.pg.trace import TraceError
from zdlint.pg.trace_cli import (
    EXIT_INTERRUPTED,
    UsageError,
    plan,
    postgres_target,
    read_sql,
)
from zdlint.pg.verify import Script, VerifyError, VerifySettings, fixed_sql, run_verify
from zdlint.pg.verify_report import FORMATS, render, verdict
from zdlint.sql.tools import file_runs_in_transaction

EXIT_PASSED, EXIT_STALLED, EXIT_ERROR = 0, 1, 2
MAX_CONNECTIONS = 40  # the servers we start allow 50; keep room for the rest of us


class _OneLineUsageErrors(click.Command):
    """Bad options are reported in one line, like every other error of verify (exit 2)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            click.echo(f"zdlint: error: {exc.format_message()}", err=True)
            ctx.exit(EXIT_ERROR)


@click.command("verify", cls=_OneLineUsageErrors)
@click.argument("migration", type=click.Path(path_type=Path))
@click.option(
    "--setup",
    multiple=True,
    type=click.Path(path_type=Path),
    help="SQL applied before the migration (the schema it assumes). Repeatable.",
)
@click.option(
    "--rows",
    type=click.IntRange(min=1),
    default=1_000_000,
    show_default=True,
    help="Rows seeded into each table the migration touches.",
)
@click.option("--writers", type=click.IntRange(min=1), default=4, show_default=True)
@click.option("--readers", type=click.IntRange(min=0), default=1, show_default=True)
@click.option(
    "--rate",
    type=click.FloatRange(min=0.1, max=10_000),
    default=50.0,
    show_default=True,
    help="Operations per second of each writer and reader.",
)
@click.option(
    "--duration",
    type=click.FloatRange(min=0.1),
    default=5.0,
    show_default=True,
    help="Least seconds of traffic in each run (longer when the migration is).",
)
@click.option(
    "--max-stall",
    type=click.FloatRange(min=0),
    help="Exit 1 when the worst write stall of the migration (of the fix with --compare-fix)"
    " exceeds this many milliseconds.",
)
@click.option("--compare-fix", is_flag=True, help="Also run zdlint's fix of the migration.")
@click.option(
    "--fixed",
    multiple=True,
    type=click.Path(path_type=Path),
    help="The fixed migration, given by hand (files run in order). Implies a comparison.",
)
@click.option(
    "--late-ms",
    type=click.FloatRange(min=0),
    default=100.0,
    show_default=True,
    help="A write slower than this counts as late.",
)
@click.option(
    "--write-timeout",
    type=click.IntRange(min=1),
    default=2000,
    show_default=True,
    help="statement_timeout of the writers and readers, in milliseconds.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=600.0,
    show_default=True,
    help="Seconds the whole verify may take; a stuck migration is cancelled.",
)
@click.option(
    "--in-transaction/--no-transaction",
    default=None,
    help="Run the migration in one transaction [default: as its migration tool would].",
)
@click.option(
    "--output-format",
    "-f",
    type=click.Choice(FORMATS),
    default="full",
    show_default=True,
)
@click.option("--output-file", "-o", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--dsn",
    envvar=DSN_ENV,
    help=f"Run on this server in scratch databases zdlint creates and drops [env: {DSN_ENV}].",
)
@click.option(
    "--allow-side-effects",
    is_flag=True,
    help="Run statements that reach outside the database (COPY … PROGRAM, server files).",
)
def verify(
    migration: Path,
    setup: tuple[Path, ...],
    rows: int,
    writers: int,
    readers: int,
    rate: float,
    duration: float,
    max_stall: float | None,
    compare_fix: bool,
    fixed: tuple[Path, ...],
    late_ms: float,
    write_timeout: int,
    timeout: float,
    in_transaction: bool | None,
    output_format: str,
    output_file: Path | None,
    dsn: str | None,
    allow_side_effects: bool,
) -> None:
    """Apply MIGRATION to a seeded copy of its tables while writers keep writing.

    Measures the worst write stall, late and failed writes and lock waits, against a
    control run without the migration. A DIRECTORY argument applies its earlier
    migrations as set-up and verifies the last one.
    """
    settings = VerifySettings(
        rows=rows,
        load=LoadSettings(writers, readers, rate, write_timeout),
        duration_s=duration,
        late_ms=late_ms,
        timeout_s=timeout,
        allow_side_effects=allow_side_effects,
    )
    try:
        with _terminate_as_interrupt():
            if writers + readers > MAX_CONNECTIONS:
                raise UsageError(
                    f"--writers plus --readers is {writers + readers}; at most "
                    f"{MAX_CONNECTIONS} connections are supported."
                )
            ((setup_files, target_path),) = plan((migration,), setup)
            texts = {p: read_sql(p) for p in [*setup_files, target_path, *fixed]}
            wrapped = (
                in_transaction
                if in_transaction is not None
                else file_runs_in_transaction(target_path, texts[target_path])
            )
            original = Script.from_texts([(str(target_path), texts[target_path], wrapped)])
            fixed_script = None
            if fixed:
                fixed_script = Script.from_texts(
                    [(str(p), texts[p], file_runs_in_transaction(p, texts[p])) for p in fixed]
                )
            elif compare_fix:
                steps = fixed_sql(target_path, texts[target_path])
                fixed_script = Script.from_texts(
                    [(f"fix step {i}", text, tx) for i, (text, tx) in enumerate(steps, start=1)]
                )
            with ProgressLine() as progress, postgres_target(dsn) as server:
                result = run_verify(
                    server,
                    [(str(p), texts[p]) for p in setup_files],
                    original,
                    fixed_script,
                    settings,
                    progress,
                )
    except KeyboardInterrupt:
        click.echo("zdlint: interrupted; the scratch databases were dropped.", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except (UsageError, NoPostgresError, DatabaseError, TraceError, VerifyError) as exc:
        message = str(exc).replace("\n", " ")
        if dsn:
            message = message.replace(dsn, mask_dsn(dsn))
        click.echo(f"zdlint: error: {message}", err=True)
        sys.exit(EXIT_ERROR)
    gate = verdict(result, max_stall)
    report = render(result, output_format, str(target_path), gate)
    if output_file is not None:
        try:
            write_atomic(output_file, report + "\n")
        except OSError as exc:
            click.echo(f"zdlint: error: {output_file}: cannot write ({exc.strerror})", err=True)
            sys.exit(EXIT_ERROR)
    else:
        click.echo(report)
    sys.exit(EXIT_PASSED if gate.passed else EXIT_STALLED)


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C, so scratch databases and the server are cleaned up."""

    def interrupt(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread (e.g. under a test runner's worker)
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
