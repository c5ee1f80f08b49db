"""`zdlint fix`: find the SQL migrations, fix each, then diff, print or write."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zdlint.fix.plan import FixOptions

if TYPE_CHECKING:
    from zdlint.sql.history import History

EXIT_CLEAN, EXIT_CHANGES, EXIT_ERROR = 0, 1, 2


def fix_options(settings_fix: dict[str, Any], overrides: dict[str, Any]) -> FixOptions:
    """Defaults, then the config's fix-* keys, then the command line."""
    from zdlint.config import ConfigError, duration

    options = replace(FixOptions(), **settings_fix)
    given = {k: v for k, v in overrides.items() if v is not None}
    for key in ("lock_timeout", "statement_timeout"):
        if key in given:
            try:
                duration(given[key], f"--{key.replace('_', '-')}")
            except ConfigError as exc:
                raise ValueError(str(exc)) from None
    return replace(options, **given)


def run_fix(
    *,
    paths: list[str],
    mode: str,
    diff_base: str | None,
    overrides: dict[str, Any],
    select: str | None,
    ignore: str | None,
    pg_version: str | None,
    schema_file: str | None,
    config_path: str | None,
    isolated: bool,
    fail: Callable[[str], None],
) -> int:
    from zdlint import config as cfg
    from zdlint.catalogue import load_catalogue
    from zdlint.discover import SQL, DiscoveryError, discover
    from zdlint.fix import apply
    from zdlint.fix.fixer import FixRefused, fix_text
    from zdlint.lint import new_history
    from zdlint.source import UndecodableFile, decode
    from zdlint.sql.history import PER_FOLDER_NAMES, SchemaFileError
    from zdlint.sql.tools import detect_tool

    catalogue = load_catalogue()
    try:
        settings = cfg.command_settings(
            catalogue,
            config_path=config_path,
            isolated=isolated,
            select=select,
            ignore=ignore,
            pg_version=pg_version,
            schema=schema_file,
        )
        options = fix_options(settings.fix, overrides)
        history = new_history(settings)
    except (cfg.ConfigError, ValueError, SchemaFileError) as exc:
        fail(str(exc))
        return EXIT_ERROR

    # A file that exists at the base was applied there, even if it was edited since.
    at_base: set[Path] = set()
    if diff_base:
        from zdlint.vcs import DiffBaseError, files_at

        try:
            at_base = files_at(diff_base, Path.cwd())
        except DiffBaseError as exc:
            fail(str(exc))
            return EXIT_ERROR

    errors = 0
    fixes = []
    named = {Path(p).resolve() for p in paths if p != "-"}
    taken: Counter[tuple[str, str]] = Counter()  # (tool, folder): files taken as applied
    for target in discover(paths, lambda p: cfg.is_excluded(p, settings)):
        if isinstance(target, DiscoveryError):
            fail(str(target))
            errors += 1
            continue
        if target.path is None:
            fail("zdlint fix needs files, not standard input")
            errors += 1
            continue
        if (target.kind or SQL) != SQL and target.path.suffix != ".sql":
            continue
        try:
            data = target.path.read_bytes()
            text = decode(data)
        except OSError as exc:
            fail(f"{target.display}: cannot read the file: {exc.strerror or exc}")
            errors += 1
            continue
        except UndecodableFile as exc:
            fail(
                f"{target.display}: cannot fix a file that is not UTF-8 ({exc}); "
                "nothing was written"
            )
            errors += 1
            continue
        tool = detect_tool(target.path, text, settings.tool_for(target.path)).tool
        applied = applied_reason(target.path, tool, history, diff_base, at_base)
        if applied is not None:
            if target.path.resolve() in named:
                print(f"{target.display}: {applied}; not edited", file=sys.stderr)
            else:  # found in a folder: one line per folder at the end
                folder = target.path.parent
                if target.path.name in PER_FOLDER_NAMES:  # Prisma, Diesel: one folder each
                    folder = folder.parent
                taken[(tool, folder.as_posix())] += 1
            history.checked(target.path)
            continue
        schema = history.model_before(target.path)
        try:
            result = fix_text(
                target.display, target.path, text, settings, catalogue, options, schema
            )
        except FixRefused as exc:
            fail(str(exc))
            errors += 1
            continue
        finally:
            history.checked(target.path)
        for finding, reason in result.unfixable:
            span = finding.span
            print(
                f"{finding.path}:{span.line}:{span.column}: {finding.code} not fixed: {reason}",
                file=sys.stderr,
            )
        for note in result.notes:
            print(note, file=sys.stderr)
        fixes.append(result)

    for (tool, where), count in sorted(taken.items()):
        print(
            f"{where}: {count} migration(s) taken as applied and not edited: "
            + _applied_why(tool, diff_base),
            file=sys.stderr,
        )
    changed = [f for f in fixes if f.changed]
    if mode == "write":
        for result in changed:
            try:
                for path in apply.write(result):
                    print(f"wrote {path.as_posix()}", file=sys.stderr)
            except (apply.ChangedSinceRead, OSError) as exc:
                fail(str(exc))
                errors += 1
    elif mode == "stdout":
        for result in fixes:
            text = apply.stdout_text(result) if result.changed else _read(result.display)
            sys.stdout.write(text)
    else:
        sys.stdout.write(apply.unified_diff(changed))
    sys.stdout.flush()
    if errors:
        return EXIT_ERROR
    if mode == "diff" and changed:
        return EXIT_CHANGES
    return EXIT_CLEAN


def applied_reason(
    path: Path, tool: str, history: History, diff_base: str | None, at_base: set[Path]
) -> str | None:
    """Why a checksumming tool has (we assume) applied this file already, or None.

    Applied files must not change: Flyway, Liquibase, sqlx, Atlas and Prisma refuse to run
    once an applied file's checksum differs. Without a record of what ran where, decide
    conservatively: with --diff-base, every file that exists at the base was applied (even
    if edited since); without it, every file but the newest of its folder was.
    """
    from zdlint.fix.layout import CHECKSUM_TOOLS

    if tool not in CHECKSUM_TOOLS:
        return None
    if diff_base is not None:
        return _applied_why(tool, diff_base) if path.resolve() in at_base else None
    files, index = history.earlier(path)
    return None if index >= len(files) - 1 else _applied_why(tool, None)


def _applied_why(tool: str, diff_base: str | None) -> str:
    if diff_base is not None:
        return f"{tool} has already applied and checksummed it (it exists at {diff_base})"
    return (
        f"{tool} checksums applied migrations and only the newest one of a folder is taken "
        "as not yet applied (pass --diff-base REF to fix the files added since REF)"
    )


def _read(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")
