"""Lint one SQL migration file: parse, replay the migration state, run the checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from zdlint.catalogue import Catalogue, Rule
from zdlint.finding_factory import make_finding
from zdlint.findings import Finding, Hit
from zdlint.last_result import LastResult
from zdlint.source import SourceText
from zdlint.sql.checks import Check, DispatchKey, checks_by_node_type, checks_for
from zdlint.sql.parse import Statement, parse_statements
from zdlint.sql.schema import SchemaModel
from zdlint.sql.state import MigrationState, advance, enter_region, new_state
from zdlint.sql.tools import (
    ToolLayout,
    apply_transaction_mode,
    detect_tool,
    lone_statement_unwrapped,
)

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


@dataclass(frozen=True)
class SqlResult:
    source: SourceText
    statements: list[Statement]
    layout: ToolLayout
    # Each finding with the index of the statement it belongs to.
    findings: list[tuple[Finding, int]]


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
    source = SourceText(text)
    statements = parse_statements(source)
    layout = apply_transaction_mode(
        lone_statement_unwrapped(detect_tool(file_path, text), [s.start for s in statements]),
        options.transaction,
    )
    state = new_state(options.pg_version, layout, options.max_lock_timeout_ms, schema)
    state.timezone_utc = options.timezone_utc
    state.file_nodes = [s.node for s in statements if s.node is not None]
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
                findings.append(
                    (make_finding(rule, path, source, stmt.start, stmt.end, hit), stmt.index)
                )
            continue
        for check, rule in checks_for(stmt.node, dispatch):
            for hit in check.function(stmt, state):
                finding = make_finding(rule, path, source, stmt.start, stmt.end, hit)
                if plan_hook is not None and rule.fixable:
                    finding = replace(finding, fix=plan_hook(rule, stmt, state, hit))
                findings.append((finding, stmt.index))
        advance(state, stmt)
    return SqlResult(source, statements, layout, findings)
