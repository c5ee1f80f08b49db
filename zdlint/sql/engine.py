"""Lint one SQL migration file: parse, replay the migration state, run the checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from pglast import ast

from zdlint.catalogue import Catalogue, Rule
from zdlint.finding_factory import make_finding
from zdlint.findings import Finding, Hit
from zdlint.last_result import LastResult
from zdlint.source import SourceText
from zdlint.sql.checks import Check, DispatchKey, checks_by_node_type, checks_for
from zdlint.sql.parse import Statement, parse_statements
from zdlint.sql.placeholders import Substitution, substitute
from zdlint.sql.schema import SchemaModel
from zdlint.sql.state import (
    MigrationState,
    advance,
    begin_block,
    end_block,
    end_of_file,
    enter_region,
    new_state,
)
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
# Called with each statement and the state just after it (front ends that render SQL
# ask the state about what their own operations run beside).
Observer = Callable[[Statement, MigrationState], None]


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


# Rules whose checks read the statements of a DO block from the block themselves.
READ_DO_BODIES = frozenset({"ZD501", "ZD502", "ZD406"})


def embedded_statements(stmt: Statement, source: SourceText) -> list[Statement]:
    """The SQL statements a PL/pgSQL DO block runs, each placed where the block writes
    it; empty for other statements, and for a block any of whose statements is not
    written verbatim (then the block counts as one statement)."""
    if not isinstance(stmt.node, ast.DoStmt):
        return []
    from zdlint.sql.plpgsql import embedded_queries

    queries = list(embedded_queries(stmt.text))
    if not queries or any(not q.text for q in queries):
        return []
    inner = []
    for query in queries:
        start = stmt.start + query.position
        end = start + len(query.text)
        inner.append(
            Statement(
                index=stmt.index,
                base=start,
                start=start,
                end=end,
                comment_start=start,
                span=source.span(start, end),
                text=query.text,
                node=query.node,
            )
        )
    return inner


def _within(hit: Hit, sub: Statement) -> bool:
    return hit.start is not None and sub.start <= hit.start < sub.end


def lint_sql(
    path: str,
    text: str,
    options: SqlOptions,
    catalogue: Catalogue,
    file_path: Path | None,
    schema: SchemaModel | None = None,
    plan_hook: PlanHook | None = None,
    observe: Observer | None = None,
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
        inner = embedded_statements(stmt, source)
        # a hit of the DO block about one of its statements is arranged with that one's
        inside = [[(r, h) for r, h in hits if _within(h, sub)] for sub in inner]
        moved = {id(h) for pairs in inside for _, h in pairs}
        outer = [(r, h) for r, h in hits if id(h) not in moved]
        for rank, (rule, hit) in enumerate(arrange(stmt, outer)):
            finding = make_finding(rule, path, source, stmt.start, stmt.end, hit, restore)
            place = (stmt.span.line, stmt.span.column, rank)
            fix = plan_hook(rule, stmt, state, hit) if plan_hook and rule.fixable else None
            findings.append((replace(finding, place=place, fix=fix), stmt.index))
        opened = begin_block(state) if inner else False
        for sub, block_hits in zip(inner, inside, strict=True):
            assert sub.node is not None
            # the statements a DO block runs, checked as statements of their own; the
            # rules that read DO bodies themselves already saw them
            own = [
                (rule, hit)
                for check, rule in checks_for(sub.node, dispatch)
                if rule.code not in READ_DO_BODIES
                for hit in check.function(sub, state)
            ]
            for rank, (rule, hit) in enumerate(arrange(sub, own + block_hits)):
                finding = make_finding(rule, path, source, sub.start, sub.end, hit, restore)
                place = (sub.span.line, sub.span.column, rank)
                # no fix: a DO block runs in one transaction, its statements cannot move
                findings.append((replace(finding, place=place, fixable=False), stmt.index))
            advance(state, sub)
        end_block(state, opened)
        advance(state, stmt, schema=not inner)
        if observe is not None:
            observe(stmt, state)
    end_of_file(state)
    return SqlResult(source, statements, layout, findings, substitution)
