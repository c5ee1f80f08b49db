"""Check a Python migration (Django, Alembic) by the SQL it renders.

The rendered statements become one SQL text, with BEGIN/COMMIT where the migration tool
opens and ends its transaction; the SQL engine checks it as it checks any file, and each
finding moves to the lines of the operation that rendered its statement.
"""

from __future__ import annotations

import copy
import io
import tokenize
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from zdlint.catalogue import Catalogue
from zdlint.finding_factory import make_finding
from zdlint.findings import Finding, Hit, Span
from zdlint.orm.rendered import RenderedMigration
from zdlint.source import SourceText

if TYPE_CHECKING:
    from zdlint.config import Settings
    from zdlint.orm.django import DjangoGraph
    from zdlint.sql.parse import Statement
    from zdlint.sql.schema import SchemaModel
    from zdlint.sql.state import MigrationState

DJANGO = "django"
ALEMBIC = "alembic"
NOT_RENDERED = "ZD004"
DATA_MIGRATION_IN_DDL_TRANSACTION = "ZD508"
UNUSED_SUPPRESSION = "ZD002"


def python_flavour(text: str, path: Path | None) -> str | None:
    """DJANGO or ALEMBIC when `text` is a migration module of that tool, else None."""
    from zdlint.orm.django import is_django_migration

    if is_django_migration(text, path):
        return DJANGO
    if path is None:
        return None
    try:
        from zdlint.orm.alembic import is_alembic_revision  # type: ignore[import-not-found]
    except ImportError:  # the Alembic front end is not part of this build
        return None
    return ALEMBIC if is_alembic_revision(text, path) else None


@dataclass
class MigrationSql:
    """A rendered migration as one SQL text: which rendered statement each line holds."""

    text: str
    # For each line (0-based) of `text`: the index of its rendered statement, or None
    # for the BEGIN/COMMIT written around them.
    owners: list[int | None]


def migration_sql(rendered: RenderedMigration) -> MigrationSql:
    """The SQL a migration runs, with its transaction written out: BEGIN/COMMIT around
    each run of transactional statements of an atomic migration."""
    lines: list[str] = []
    owners: list[int | None] = []
    open_transaction = False
    for index, stmt in enumerate(rendered.statements):
        inside = rendered.atomic and stmt.transactional
        if inside != open_transaction:
            lines.append("BEGIN;" if inside else "COMMIT;")
            owners.append(None)
            open_transaction = inside
        body = stmt.sql.rstrip().rstrip(";").rstrip()
        # a `--` comment on the last line would swallow the `;`
        ending = "\n;" if "--" in body.rsplit("\n", 1)[-1] else ";"
        for line in f"{body}{ending}".splitlines():
            lines.append(line)
            owners.append(index)
    if open_transaction:
        lines.append("COMMIT;")
        owners.append(None)
    return MigrationSql("\n".join(lines) + "\n", owners)


@dataclass
class PythonMigrations:
    """What a run knows of Python migrations: each project's rendered graph, and a
    schema model advanced along it."""

    graphs: dict[tuple[Path, str | None], DjangoGraph] = field(default_factory=dict)
    alembic: dict[Path, RenderedMigration] = field(default_factory=dict)
    # per graph: (how many of its migrations the model holds, the model)
    cursors: dict[int, tuple[int, SchemaModel]] = field(default_factory=dict)


def lint_python(
    display: str,
    text: str,
    path: Path | None,
    flavour: str,
    settings: Settings,
    catalogue: Catalogue,
    enabled: frozenset[str],
    seed: SchemaModel | None,
    known: PythonMigrations | None,
) -> list[Finding]:
    """Findings for one Python migration module, on its own lines."""
    source = SourceText(text)
    known = known if known is not None else PythonMigrations()
    assert path is not None  # only files are Python migrations
    rendered, schema, error = _render(path, text, flavour, settings, seed, known)
    findings: list[tuple[Finding, int]] = []
    operations = _operations(rendered, source) if rendered is not None else []
    rule = catalogue.get(NOT_RENDERED)
    if error is not None and rule is not None:
        finding = _finding(rule, display, source, _first_code_line(source), {"reason": error})
        findings.append((finding, 0))
    if rendered is not None:
        for line, reason in rendered.problems:
            if rule is not None:
                finding = _finding(rule, display, source, line, {"reason": reason})
                findings.append((finding, _owner_of(operations, line)))
        findings.extend(
            _sql_findings(
                display, source, rendered, operations, settings, catalogue, enabled, schema
            )
        )
    owners = [start for start, _ in operations] or [0]
    unused_rule = catalogue.get(UNUSED_SUPPRESSION)

    def make_unused(start: int, end: int, fields: dict[str, object]) -> Finding | None:
        return make_finding(unused_rule, display, source, start, end, Hit(fields))  # type: ignore[arg-type]

    from zdlint.suppressions import apply_suppressions

    kept = apply_suppressions(
        findings, owners, text, catalogue, make_unused, comments=python_comments(text)
    )
    return [f for f in kept if f.code in enabled]


def _render(
    path: Path,
    text: str,
    flavour: str,
    settings: Settings,
    seed: SchemaModel | None,
    known: PythonMigrations,
) -> tuple[RenderedMigration | None, SchemaModel, str | None]:
    """(the migration rendered, the schema before it, why it could not be rendered)."""
    from zdlint.sql.history import replay_text
    from zdlint.sql.schema import SchemaModel

    fresh = copy.deepcopy(seed) if seed is not None else SchemaModel()
    if flavour == ALEMBIC:
        from zdlint.orm.alembic import render_alembic

        target = path.resolve()
        for earlier in alembic_ancestors(target):
            replay_text(fresh, migration_sql(_alembic(earlier, known)).text, None, False)
        return render_alembic(path, text), fresh, None
    from zdlint.orm.django import render_graph

    target = path.resolve()
    chosen = django_settings(settings)
    key = (target.parent.parent, chosen)
    graph = known.graphs.get(key) or next(
        (g for g in known.graphs.values() if target in g.rendered), None
    )
    if graph is None:
        graph = known.graphs[key] = render_graph(target, chosen, settings.pg_version)
    rendered = graph.rendered.get(target)
    if rendered is None:
        reason = graph.error or "the migration is not part of the project's migration graph"
        return None, fresh, reason
    return rendered, _schema_before(graph, target, seed, known), None


def _alembic(path: Path, known: PythonMigrations) -> RenderedMigration:
    """An Alembic revision rendered, once per run."""
    from zdlint.orm.alembic import render_alembic

    rendered = known.alembic.get(path)
    if rendered is None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = ""
        rendered = known.alembic[path] = render_alembic(path, text)
    return rendered


def alembic_ancestors(target: Path) -> list[Path]:
    """The revisions of `target`'s folder that `alembic upgrade` runs before it, each
    after its own down revisions (branches merged)."""
    revisions: dict[str, tuple[Path, tuple[str, ...]]] = {}
    for module in sorted(target.parent.glob("*.py")):
        ids = revision_ids(module)
        if ids is not None:
            revisions[ids[0]] = (module, ids[1])
    own = revision_ids(target)
    if own is None:
        return []
    order: list[Path] = []
    seen: set[str] = set()

    def visit(revision: str) -> None:
        if revision in seen or revision not in revisions:
            return
        seen.add(revision)
        module, downs = revisions[revision]
        for down in downs:
            visit(down)
        order.append(module)

    for down in own[1]:
        visit(down)
    return order


def revision_ids(module: Path) -> tuple[str, tuple[str, ...]] | None:
    """(revision, down revisions) an Alembic revision module declares, read with `ast`."""
    import ast

    try:
        tree = ast.parse(module.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return None
    values: dict[str, object] = {}
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) and node.targets else None
        if isinstance(node, ast.AnnAssign):
            target = node.target
        value = getattr(node, "value", None)
        if isinstance(target, ast.Name) and value is not None:
            try:
                values[target.id] = ast.literal_eval(value)
            except ValueError:
                continue
    revision, down = values.get("revision"), values.get("down_revision")
    if not isinstance(revision, str):
        return None
    downs = (down,) if isinstance(down, str) else down if isinstance(down, (tuple, list)) else ()
    return revision, tuple(d for d in downs if isinstance(d, str))


def _schema_before(
    graph: DjangoGraph, target: Path, seed: SchemaModel | None, known: PythonMigrations
) -> SchemaModel:
    """The schema after every migration `migrate` runs before `target`."""
    from zdlint.sql.history import replay_text
    from zdlint.sql.schema import SchemaModel

    if target in graph.replaced:  # replaced by a squashed migration: runs in its place
        squashed, earlier_replaced = graph.replaced[target]
        model = _schema_before(graph, squashed, seed, known)
        for earlier in earlier_replaced:
            replay_text(model, migration_sql(graph.rendered[earlier]).text, None, templates=False)
        return model
    index = graph.order.index(target)
    position, model = known.cursors.get(id(graph), (0, SchemaModel()))
    if position > index or id(graph) not in known.cursors:
        position, model = 0, copy.deepcopy(seed) if seed is not None else SchemaModel()
    for earlier in graph.order[position:index]:
        replay_text(model, migration_sql(graph.rendered[earlier]).text, None, templates=False)
    known.cursors[id(graph)] = (index, model)
    return copy.deepcopy(model)


def _operations(rendered: RenderedMigration, source: SourceText) -> list[tuple[int, Span]]:
    """(offset where its comments begin, span) of each operation, in file order."""
    ranges = sorted(
        {(s.line, s.end_line) for s in rendered.statements}
        | {(o.line, o.end_line) for o in rendered.opaque}
        | {(line, line) for line, _ in rendered.problems}
    )
    found = []
    for line, end_line in ranges:
        first = line
        while first > 1 and source.line_text(first - 1).lstrip().startswith("#"):
            first -= 1
        found.append((source.line_starts[first - 1], operation_span(source, line, end_line)))
    return found


def operation_span(source: SourceText, line: int, end_line: int) -> Span:
    """From the first character of `line` to the end of `end_line`."""
    text = source.line_text(line)
    column = len(text) - len(text.lstrip()) + 1
    return Span(line, column, end_line, len(source.line_text(end_line)) + 1)


def _owner_of(operations: list[tuple[int, Span]], line: int) -> int:
    for index, (_, span) in enumerate(operations):
        if span.line <= line <= span.end_line:
            return index
    return 0


def _first_code_line(source: SourceText) -> int:
    for line in range(1, source.line_count + 1):
        if source.line_text(line).startswith("class "):
            return line
    return 1


def _finding(
    rule: object, display: str, source: SourceText, line: int, fields: dict[str, object]
) -> Finding:
    span = operation_span(source, line, line)
    start = source.line_starts[line - 1] + span.column - 1
    end = source.line_starts[line - 1] + span.end_column - 1
    return make_finding(rule, display, source, start, end, Hit(fields))  # type: ignore[arg-type]


def _sql_findings(
    display: str,
    source: SourceText,
    rendered: RenderedMigration,
    operations: list[tuple[int, Span]],
    settings: Settings,
    catalogue: Catalogue,
    enabled: frozenset[str],
    schema: SchemaModel,
) -> list[tuple[Finding, int]]:
    from zdlint.sql.engine import lint_sql, options_for

    sql = migration_sql(rendered)
    # the transaction is written out: the engine must not wrap the text again
    options = replace(options_for(settings, enabled, None), transaction="never", tool=None)
    # the DDL locks the open transaction holds after each statement, by its offset
    after: list[tuple[int, dict[str, str]]] = []

    def observe(stmt: Statement, state: MigrationState) -> None:
        after.append((stmt.start, dict(state.ddl_locks)))

    result = lint_sql(display, sql.text, options, catalogue, None, schema, observe=observe)
    found = []
    for finding, _ in result.findings:
        index = _statement_at(sql.owners, finding.span.line)
        stmt = rendered.statements[index]
        span = operation_span(source, stmt.line, stmt.end_line)
        # the findings of one operation keep their order (the engine's rank)
        rank = finding.place[2] if finding.place is not None else 0
        place = (span.line, span.column, rank)
        # `zdlint fix` does not write ORM code yet: no plan is offered
        moved = replace(finding, span=span, place=place, fixable=False, fix=None)
        found.append((moved, _owner_of(operations, stmt.line)))
    found.extend(_data_migrations(display, source, rendered, sql, after, operations, catalogue))
    return found


def _statement_at(owners: list[int | None], line: int) -> int:
    """The rendered statement on a line of the SQL text; for BEGIN, the next one, for
    COMMIT the one before."""
    index = min(max(line - 1, 0), len(owners) - 1)
    owner = owners[index]
    if owner is not None:
        return owner
    following = [o for o in owners[index:] if o is not None]
    before = [o for o in owners[:index] if o is not None]
    if index == 0 or owners[index - 1] is None:
        return following[0] if following else before[-1]
    return before[-1] if before else following[0]


def _data_migrations(
    display: str,
    source: SourceText,
    rendered: RenderedMigration,
    sql: MigrationSql,
    after: list[tuple[int, dict[str, str]]],
    operations: list[tuple[int, Span]],
    catalogue: Catalogue,
) -> list[tuple[Finding, int]]:
    """ZD508: a data migration inside a transaction that holds DDL locks on existing
    tables (taken before it, or after it, until COMMIT)."""
    from zdlint.locks import lock_mode

    rule = catalogue.get(DATA_MIGRATION_IN_DDL_TRANSACTION)
    if rule is None or not rendered.atomic:
        return []
    locks_after: dict[int, dict[str, str]] = {}
    for start, locks in after:
        owner = sql.owners[sql.text.count("\n", 0, start)]
        if owner is not None:
            locks_after[owner] = locks
    found = []
    for step in rendered.opaque:
        if not step.transactional:
            continue
        held: dict[str, str] = {}
        group = _transaction_group(rendered, step.position)
        for index in group:
            held.update(locks_after.get(index, {}))
        if not held:
            continue
        strongest = max(held.values(), key=lambda mode: lock_mode(mode).strength)
        tables = ", ".join(sorted(held))
        span = operation_span(source, step.line, step.end_line)
        start = source.line_starts[step.line - 1] + span.column - 1
        end = source.line_starts[step.end_line - 1] + span.end_column - 1
        hit = Hit({"operation": step.kind, "held": tables}, lock=strongest)
        finding = make_finding(rule, display, source, start, end, hit)  # type: ignore[arg-type]
        found.append((finding, _owner_of(operations, step.line)))
    return found


def _transaction_group(rendered: RenderedMigration, position: int) -> list[int]:
    """The transactional statements around `position` that share its transaction."""
    statements = rendered.statements
    group = []
    index = position - 1
    while index >= 0 and statements[index].transactional:
        group.append(index)
        index -= 1
    index = position
    while index < len(statements) and statements[index].transactional:
        group.append(index)
        index += 1
    return group


def django_settings(settings: Settings) -> str | None:
    """The settings module to load the project with: the config's, else the
    environment's, else None (zdlint configures minimal settings itself)."""
    import os

    return settings.django_settings or os.environ.get("DJANGO_SETTINGS_MODULE") or None


def python_comments(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of every `#` comment of a Python module."""
    starts = SourceText(text).line_starts
    found = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                (line, column), (end_line, end_column) = token.start, token.end
                found.append((starts[line - 1] + column, starts[end_line - 1] + end_column))
    except (tokenize.TokenError, SyntaxError):
        pass
    return found
