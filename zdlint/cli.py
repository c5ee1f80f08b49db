"""The `zdlint` command line (ruff is the model)."""

from __future__ import annotations

import gc
import os
import signal
import sys
from pathlib import Path

# Start-up makes some 30,000 objects that live until exit (click, pglast's node classes,
# the catalogue); with the default first generation of 700 the collector scans them again
# and again, 5 ms of a one-file run. A larger one, as mypy sets, still bounds memory.
gc.set_threshold(100_000, *gc.get_threshold()[1:])

import click  # noqa: E402 - after the collector is set, so that its import gains too

from zdlint import __version__  # noqa: E402

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _fail(message: str) -> None:
    click.echo(f"zdlint: error: {message}", err=True)


def _use_color(output_file: str | None) -> bool:
    if output_file:
        return False
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return sys.stdout.isatty()


class LazyGroup(click.Group):
    """Commands that need the PostgreSQL engine are imported only when they run, so
    `zdlint check` never pays for psycopg."""

    lazy_commands = {
        "trace": "zdlint.pg.trace_cli:trace",
        "verify": "zdlint.pg.verify_cli:verify",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self.lazy_commands.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        import importlib

        module_name, attribute = target.split(":")
        command: click.Command = getattr(importlib.import_module(module_name), attribute)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="zdlint")
def main() -> None:
    """Zero-downtime checks for PostgreSQL migrations and Kubernetes rollouts."""


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--output-format",
    "-f",
    default="full",
    show_default=True,
    type=click.Choice(
        ["full", "concise", "json", "json-lines", "sarif", "github", "gitlab", "junit"]
    ),
    help="How to print the findings.",
)
@click.option("--output-file", "-o", type=click.Path(dir_okay=False), help="Write the report here.")
@click.option("--select", help="Comma-separated rules to check (codes, names, prefixes or ALL).")
@click.option("--extend-select", help="Rules to check in addition to the selection.")
@click.option("--ignore", help="Comma-separated rules not to check.")
@click.option("--pg-version", help="PostgreSQL major version the migrations run on (11–18).")
@click.option(
    "--k8s-version",
    help="Kubernetes release the manifests are applied to, e.g. 1.31 [default: 1.31].",
)
@click.option(
    "--transaction",
    type=click.Choice(["auto", "always", "never"]),
    help="Whether the migration tool wraps each file in a transaction (auto: detect).",
)
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "info"]),
    help="Lowest severity that makes the exit code 1 [default: warning].",
)
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option(
    "--templates/--no-templates",
    default=None,
    help="Read {{ … }}, @name@ and $%NAME%$ placeholders as identifiers.",
)
@click.option("--stdin-filename", help="The name to report for `-` (standard input).")
@click.option(
    "--no-cache",
    is_flag=True,
    help="Check every file again instead of reusing findings of unchanged files.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Use this config file instead of searching for one.",
)
@click.option("--isolated", is_flag=True, help="Ignore every config file.")
@click.option(
    "--schema",
    "schema_file",
    type=click.Path(dir_okay=False),
    help="A pg_dump --schema-only file describing the database before the migrations.",
)
@click.option(
    "--history/--no-history",
    default=None,
    help="Replay the earlier migrations of each file's folder to know the schema [default: on].",
)
@click.option(
    "--diff-base",
    metavar="REF",
    help="Report only files changed since this git revision (earlier ones still count). "
    "The migrations added since then are one release: what they create is new to the "
    "running version of the application.",
)
@click.option(
    "--show-settings",
    is_flag=True,
    help="Print the migration tool detected for each folder (and why), its transaction "
    "mode and the resolved settings, then exit without checking.",
)
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="Print the migration tool detected for each folder, and why, on stderr.",
)
@click.option(
    "--render",
    is_flag=True,
    help="Check a folder holding a kustomization or a Helm chart as `kustomize build` or "
    "`helm template` renders it (when the tool is on PATH; else say so and check the files).",
)
@click.option(
    "--baseline",
    "baseline_file",
    type=click.Path(dir_okay=False),
    help="Report only findings not recorded in this file (see --write-baseline).",
)
@click.option(
    "--write-baseline",
    type=click.Path(dir_okay=False),
    help="Record the current findings in this file, to adopt zdlint on existing "
    "migrations, and exit 0.",
)
@click.option("--statistics", is_flag=True, help="Print the number of findings per rule instead.")
@click.option("--quiet", "-q", is_flag=True, help="Print the findings only, no summary line.")
@click.option(
    "--exclude",
    "extra_exclude",
    multiple=True,
    metavar="GLOB",
    help="Leave out files matching this glob (repeatable), besides the config's exclude.",
)
@click.option(
    "--force-exclude",
    is_flag=True,
    default=None,
    help="Apply exclude to files named on the command line too (as pre-commit names them).",
)
def check(
    paths: tuple[str, ...],
    output_format: str,
    output_file: str | None,
    select: str | None,
    extend_select: str | None,
    ignore: str | None,
    pg_version: str | None,
    k8s_version: str | None,
    transaction: str | None,
    fail_on: str | None,
    exit_zero: bool,
    templates: bool | None,
    stdin_filename: str | None,
    no_cache: bool,
    config_path: str | None,
    isolated: bool,
    schema_file: str | None,
    history: bool | None,
    diff_base: str | None,
    show_settings: bool,
    verbose: bool,
    render: bool,
    baseline_file: str | None,
    write_baseline: str | None,
    statistics: bool,
    quiet: bool,
    extra_exclude: tuple[str, ...],
    force_exclude: bool | None,
) -> None:
    """Check SQL migrations and Kubernetes manifests (files, folders, or - for stdin)."""
    from zdlint import config as cfg
    from zdlint.catalogue import load_catalogue
    from zdlint.lint import fails, lint_paths
    from zdlint.report import preparer
    from zdlint.report import render as render_report

    catalogue = load_catalogue()
    try:
        settings = cfg.command_settings(
            catalogue,
            config_path=config_path,
            isolated=isolated,
            select=select,
            extend_select=extend_select,
            ignore=ignore,
            pg_version=pg_version,
            k8s_version=k8s_version,
            fail_on=fail_on,
            schema=schema_file,
            transaction=transaction,
            templates=templates,
            history=history,
            force_exclude=force_exclude,
        )
    except cfg.ConfigError as exc:
        _fail(str(exc))
        sys.exit(EXIT_ERROR)
    if extra_exclude:
        settings = settings.with_overrides(exclude=settings.exclude + extra_exclude)

    if show_settings or verbose:
        from zdlint import tool_report

        detection = tool_report.detect_folders(list(paths), settings)
        if show_settings:
            sys.stdout.write(tool_report.show_settings(detection, settings))
            for error in detection.errors:
                _fail(error)
            sys.exit(EXIT_ERROR if detection.errors else EXIT_CLEAN)
        for line in tool_report.verbose_lines(detection):
            click.echo(f"zdlint: {line}", err=True)

    def skipped(path: Path, reason: str, named: bool) -> None:
        if named and not verbose:  # -v has listed every skipped file already
            click.echo(f"zdlint: {path.as_posix()}: skipped: {reason}", err=True)

    only = None
    release: frozenset[Path] = frozenset()
    if diff_base:
        from zdlint.vcs import DiffBaseError, added_files, changed_files

        try:
            only = changed_files(diff_base, Path.cwd())
            release = frozenset(added_files(diff_base, Path.cwd()))
        except DiffBaseError as exc:
            _fail(str(exc))
            sys.exit(EXIT_ERROR)
    color = _use_color(output_file)
    # A baseline's fingerprints read each finding's text: no reporter may drop it early.
    fingerprinted = bool(write_baseline or baseline_file or settings.baseline)
    run = lint_paths(
        list(paths),
        settings,
        catalogue,
        stdin_name=stdin_filename,
        only=only,
        release=release,
        cache=None if no_cache else _findings_cache(settings, catalogue),
        parallel=True,
        prepare=None if fingerprinted else preparer(output_format, color=color),
        on_skip=skipped,
        render=render,
    )
    for note in run.notes:
        click.echo(f"zdlint: note: {note}", err=True)
    if write_baseline:
        sys.exit(_write_baseline(Path(write_baseline), run))
    run.reports = _adopted(run.reports, settings, baseline_file, run.errors)
    if statistics:
        output = _statistics(run.reports, catalogue)
    else:
        output = render_report(output_format, run.reports, catalogue, color=color)
        if quiet:
            output = _without_summary(output_format, output, run.reports)
    if output_file:
        from zdlint.atomic import write_atomic

        try:
            write_atomic(Path(output_file), output)
        except OSError as exc:
            run.errors.append(f"{output_file}: cannot write the report: {exc.strerror or exc}")
    else:
        sys.stdout.write(output)
        sys.stdout.flush()
    for error in run.errors:
        _fail(error)
    if run.errors:
        sys.exit(EXIT_ERROR)
    findings = [f for report in run.reports for f in report.findings]
    if not exit_zero and fails(findings, settings):
        sys.exit(EXIT_FINDINGS)
    sys.exit(EXIT_CLEAN)


def _write_baseline(path: Path, run) -> int:  # type: ignore[no-untyped-def]
    """`--write-baseline`: record the run's findings; exit 2 if the run had errors, whose
    files would be missing from the baseline."""
    from zdlint.adopt import BaselineError, write_baseline

    for error in run.errors:
        _fail(error)
    if run.errors:
        _fail(f"{path}: not written, since some files could not be checked")
        return EXIT_ERROR
    try:
        count = write_baseline(path, run.reports)
    except BaselineError as exc:
        _fail(str(exc))
        return EXIT_ERROR
    noun = "finding" if count == 1 else "findings"
    click.echo(f"zdlint: wrote {count} {noun} to {path.as_posix()}", err=True)
    return EXIT_CLEAN


def _adopted(reports, settings, baseline_file: str | None, errors: list[str]):  # type: ignore[no-untyped-def]
    """The reports without what `start-after` and the baseline (`--baseline`, else the
    config's `baseline`) accept; zdlint.adopt (and hashing) is loaded only for them."""
    path = Path(baseline_file) if baseline_file else settings.baseline
    if not settings.start_after and path is None:
        return reports
    from zdlint.adopt import BaselineError, after_start, read_baseline, without_baseline

    if settings.start_after:
        reports = after_start(reports, settings.start_after)
    if path is not None:
        try:
            reports = without_baseline(reports, read_baseline(path), path)
        except BaselineError as exc:
            errors.append(str(exc))
    return reports


def _statistics(reports, catalogue) -> str:  # type: ignore[no-untyped-def]
    """`--statistics`: a line per rule (count, code, name, [*] when fixable), most
    frequent first, then the summary line, as ruff prints them."""
    from collections import Counter

    from zdlint.report.summary import summary_line

    findings = [f for report in reports for f in report.findings]
    counts = Counter(f.code for f in findings)
    fixable = {f.code for f in findings if f.fixable}
    width = len(str(max(counts.values(), default=0)))
    lines = []
    for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        rule = catalogue.get(code)
        name = rule.name if rule is not None else code
        mark = "[*] " if code in fixable else ""
        lines.append(f"{count:>{width}}\t{code}\t{mark}{name}")
    lines.append(summary_line(reports))
    return "\n".join(lines) + "\n"


def _without_summary(output_format: str, output: str, reports) -> str:  # type: ignore[no-untyped-def]
    """`--quiet`: the human formats without their closing summary lines (the machine
    formats have none to drop)."""
    if output_format not in ("full", "concise"):
        return output
    from zdlint.report.summary import summary_line

    cut = output.rfind(summary_line(reports) + "\n")
    if cut < 0:
        return output
    findings = output[:cut].rstrip("\n")
    return findings + "\n" if findings else ""


def _findings_cache(settings, catalogue):  # type: ignore[no-untyped-def]
    """The cache for this run's settings and rule catalogue (see zdlint.cache)."""
    from zdlint.cache import FindingsCache, digest

    fingerprint = repr(settings)
    if settings.schema is not None:  # the schema file seeds every file's model
        try:
            fingerprint += digest(settings.schema.read_bytes())
        except OSError:
            return None  # lint_paths reports it
    return FindingsCache.open(catalogue.fingerprint, fingerprint)


@main.command("fix")
@click.argument("paths", nargs=-1, required=True)
@click.option("--write", "mode", flag_value="write", help="Apply the fixes to the files.")
@click.option("--stdout", "mode", flag_value="stdout", help="Print the fixed files.")
@click.option(
    "--diff", "mode", flag_value="diff", default=True, help="Print a unified diff (the default)."
)
@click.option(
    "--diff-base",
    metavar="REF",
    help="Rewrite only files new since this git revision; applied files of checksumming "
    "tools (Flyway, Liquibase, sqlx, Atlas, Prisma) are never edited.",
)
@click.option("--batch-size", type=click.IntRange(min=1), help="Rows per batch [default: 1000].")
@click.option("--backfill-expr", help="The value to fill a new NOT NULL column with.")
@click.option("--lock-timeout", help="lock_timeout to set where missing [default: 3s].")
@click.option(
    "--statement-timeout", help="statement_timeout to set where missing [default: 30min]."
)
@click.option("--select", help="Comma-separated rules to fix (codes, names, prefixes or ALL).")
@click.option("--ignore", help="Comma-separated rules not to fix.")
@click.option("--pg-version", help="PostgreSQL major version the migrations run on (11–18).")
@click.option(
    "--schema",
    "schema_file",
    type=click.Path(dir_okay=False),
    help="A pg_dump --schema-only file describing the database before the migrations.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Use this config file instead of searching for one.",
)
@click.option("--isolated", is_flag=True, help="Ignore every config file.")
def fix_command(
    paths: tuple[str, ...],
    mode: str,
    diff_base: str | None,
    batch_size: int | None,
    backfill_expr: str | None,
    lock_timeout: str | None,
    statement_timeout: str | None,
    select: str | None,
    ignore: str | None,
    pg_version: str | None,
    schema_file: str | None,
    config_path: str | None,
    isolated: bool,
) -> None:
    """Rewrite unsafe migrations into safe expand/contract steps (prints a diff by default)."""
    from zdlint.fix.command import run_fix

    sys.exit(
        run_fix(
            paths=list(paths),
            mode=mode,
            diff_base=diff_base,
            overrides={
                "batch_size": batch_size,
                "backfill_expr": backfill_expr,
                "lock_timeout": lock_timeout,
                "statement_timeout": statement_timeout,
            },
            select=select,
            ignore=ignore,
            pg_version=pg_version,
            schema_file=schema_file,
            config_path=None if isolated else config_path,
            isolated=isolated,
            fail=_fail,
        )
    )


@main.command("rules")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def rules_command(fmt: str) -> None:
    """List every rule."""
    from zdlint.catalogue import load_catalogue

    catalogue = load_catalogue()
    if fmt == "json":
        import json

        click.echo(
            json.dumps(
                [
                    {
                        "code": r.code,
                        "name": r.name,
                        "severity": r.severity.label,
                        "category": r.category,
                        "enabled": r.enabled,
                        "fixable": r.fixable,
                        "summary": r.summary,
                    }
                    for r in catalogue
                ],
                indent=2,
            )
        )
        return
    for rule in catalogue:
        flags = ("fix" if rule.fixable else "   ") + (" " if rule.enabled else " (off)")
        click.echo(f"{rule.code}  {rule.name:<40} {rule.severity.label:<8} {flags} {rule.summary}")


@main.command("rule")
@click.argument("key")
def rule_command(key: str) -> None:
    """Explain one rule, by code or name."""
    from zdlint.catalogue import load_catalogue
    from zdlint.docs import rule_markdown

    rule = load_catalogue().get(key)
    if rule is None:
        _fail(f"no rule is called {key!r}; `zdlint rules` lists them")
        sys.exit(EXIT_ERROR)
    click.echo(rule_markdown(rule), nl=False)


@main.command("server")
def server_command() -> None:
    """Run the language server (LSP over stdin and stdout) for editors; the config
    file is the one nearest to the folder it starts in."""
    from zdlint import config as cfg
    from zdlint.catalogue import load_catalogue
    from zdlint.editor import Workspace

    try:
        from zdlint.lsp_server import serve
    except ImportError:
        _fail("the language server needs pygls: pip install 'zdlint[lsp]'")
        sys.exit(EXIT_ERROR)
    catalogue = load_catalogue()
    try:
        settings = cfg.command_settings(catalogue, config_path=None, isolated=False)
    except cfg.ConfigError as exc:
        _fail(str(exc))
        sys.exit(EXIT_ERROR)
    serve(Workspace(settings, catalogue))


def _terminated(signum: int, _frame: object) -> None:
    # SIGTERM (CI cancelling a job) unwinds like Ctrl-C, so every `finally` runs:
    # temporary files are removed and throwaway PostgreSQL servers are stopped.
    raise SystemExit(128 + signum)


def run() -> None:
    """Entry point that turns unexpected exceptions into one clear line (exit 2)."""
    signal.signal(signal.SIGTERM, _terminated)
    try:
        main(standalone_mode=True)
    except KeyboardInterrupt:
        _fail("interrupted")
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the user must never see a traceback
        if os.environ.get("ZDLINT_DEBUG"):
            raise
        _fail(f"internal error: {type(exc).__name__}: {exc} (set ZDLINT_DEBUG=1 for details)")
        sys.exit(EXIT_ERROR)
    finally:
        # At exit the interpreter collects garbage before freeing the modules, scanning
        # every object start-up made: 12 ms of a one-file run. Frozen, they are skipped;
        # atexit handlers and the flushing of output run as usual.
        gc.freeze()
