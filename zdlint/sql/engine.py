"""Lint one SQL migration file: parse, replay the migration state, run the checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from zdlint.catalogue import Catalogue, Rule
from zdlint.finding_factory import make_finding
from zdlint.findings import Finding, Hit
from zdlint.last_result import LastResult
from zdlint.source import SourceText
from zdlint.sql.checks import Check, DispatchKey, checks_by_node_type, checks_for
from zdlint.sql.parse import Statement, parse_statements
from zdlint.sql.placeholders import Substitution, substitute
from zdlint.sql.schema import SchemaModel
from zdlint.sql.state import MigrationState, advance, end_of_file, enter_region, new_state
from zdlint.sql.statement_findings import arrange
from zdlint.sql.tools import (
    ConfiguredTool,
    ToolLayout,
    apply_transaction_mode,
    layout_for_statements,
)

if TYPE_CHECKING:
    from zdlint.config import Settings

SYNTAX_ERROR = "ZD001"

# Called for every hit with the state before its statement; what it returns becomes the
# finding's `fix` (used by `zdlint fix`, which needs the state the check saw).
PlanHook = Callable[[Rule, Statement, MigrationState, Hit], object | None]


@dataclass(frozen=True)
class SqlOptions:
    """The effective configuration for one file."""

    pg_version: int
    transaction: str  # auto | always | never
    enabled: frozenset[str]  # rule codes to report
    max_lock_timeout_ms: float
    timezone_utc: bool = True
    tool: ConfiguredTool | None = None  # the tool the config names for this file
    templates: bool = False  # read template placeholders as identifiers


def options_for(settings: Settings, enabled: frozenset[str], path: Path | None) -> SqlOptions:
    """The options a run's settings give one file."""
    from zdlint.config import timezone_is_utc

    return SqlOptions(
        pg_version=settings.pg_version,
        transaction=settings.transaction,
        enabled=enabled,
        max_lock_timeout_ms=settings.max_lock_timeout_ms,
        timezone_utc=timezone_is_utc(settings),
        tool=settings.tool_for(path),
        templates=settings.templates,
    )


@dataclass(frozen=True)
class SqlResult:
    source: SourceText  # the text as parsed (placeholders replaced)
    statements: list[Statement]
    layout: ToolLayout
    # Each finding with the index of the statement it belongs to.
    findings: list[tuple[Finding, int]]
    substitution: Substitution  # the stand-ins for template placeholders


# Every file of a run has the same active rules: the table is narrowed once per run.
_narrowed: LastResult[dict[DispatchKey, tuple[tuple[Check, Rule], ...]]] = LastResult()


def _active_dispatch(
    active: dict[str, Rule],
) -> dict[DispatchKey, tuple[tuple[Check, Rule], ...]]:
    """For each statement type, its checks whose rule is active, with that rule."""
    return _narrowed.get(
        (active,),
        lambda: {
            node_type: tuple((c, active[c.rule]) for c in checks if c.rule in active)
            for node_type, checks in checks_by_node_type().items()
        },
    )


def lint_sql(
    path: str,
    text: str,
    options: SqlOptions,
    catalogue: Catalogue,
    file_path: Path | None,
    schema: SchemaModel | None = None,
    plan_hook: PlanHook | None = None,
) -> SqlResult:
    """Check one file; `schema` (the model before this file) is updated as it goes."""
    substitution = substitute(text) if options.templates else Substitution(text, {})
    source = SourceText(substitution.text)
    restore = substitution.restore if substitution.originals else None
    statements = parse_statements(source)
    layout = apply_transaction_mode(
        layout_for_statements(file_path, statements, source.text, options.tool),
        options.transaction,
    )
    state = new_state(options.pg_version, layout, options.max_lock_timeout_ms, schema)
    state.timezone_utc = options.timezone_utc
    state.file_statements = statements
    active = catalogue.active(options.enabled, options.pg_version)
    dispatch = _active_dispatch(active)
    findings: list[tuple[Finding, int]] = []
    for stmt in statements:
        region = layout.region_at(stmt.start)
        enter_region(state, region)
        if not region.deploy:
            continue
        if stmt.node is None:
            rule = active.get(SYNTAX_ERROR)
            if rule is not None:
                offset = stmt.error_offset if stmt.error_offset is not None else stmt.start
                hit = Hit({"error": stmt.error}, start=offset, end=offset + 1)
                finding = make_finding(rule, path, source, stmt.start, stmt.end, hit, restore)
                findings.append((finding, stmt.index))
            advance(state, stmt)  # what it clearly creates still exists for the rest
            continue
        hits = [
            (rule, hit)
            for check, rule in checks_for(stmt.node, dispatch)
            for hit in check.function(stmt, state)
        ]
        for rank, (rule, hit) in enumerate(arrange(stmt, hits)):
            finding = make_finding(rule, path, source, stmt.start, stmt.end, hit, restore)
            place = (stmt.span.line, stmt.span.column, rank)
            fix = plan_hook(rule, stmt, state, hit) if plan_hook and rule.fixable else None
            findings.append((replace(finding, place=place, fix=fix), stmt.index))
        advance(state, stmt)
    end_of_file(state)
    return SqlResult(source, statements, layout, findings, substitution)
