"""ALTER TABLE with several subcommands, as one statement per subcommand.

Prisma and Atlas put every change of a table into one ALTER TABLE, so most findings sit on
statements the planners cannot rewrite whole. PostgreSQL runs the subcommands of one
statement in passes (every DROP, then every ALTER COLUMN TYPE, then ADD COLUMN, then SET
NOT NULL, then index-backed constraints, then other constraints and defaults, then the
rest), each pass in the order written; statements in that same order reach the same
table. Subcommands whose pass is not known, or whose relative order differs between
PostgreSQL versions, keep the statement whole. Column type changes stay in one statement:
apart, each would rewrite the table again.

The parts keep the user's own text (quoting, comments): the statement is cut at its
top-level commas, and each part is checked to parse back to exactly its subcommand.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from pglast import ast, parse_sql
from pglast.enums import AlterTableType as At
from pglast.enums import ConstrType, ObjectType

from zdlint.findings import Finding, Span
from zdlint.fix.sql_text import tokens
from zdlint.sql.command_spans import command_spans
from zdlint.sql.names import strings, walk
from zdlint.sql.parse import Statement
from zdlint.sql.statement_sql import deparse

if TYPE_CHECKING:
    from zdlint.fix.fixer import FileFix

# PostgreSQL's AlterTablePass order (tablecmds.c), for the subcommands it is the same in
# every supported version.
DROP, ALTER_TYPE, ADD_COLUMN, COLUMN_ATTRIBUTES, INDEX, OTHER_CONSTRAINT, MISC = range(7)

_PASS = {
    At.AT_DropColumn: DROP,
    At.AT_DropConstraint: DROP,
    At.AT_DropNotNull: DROP,
    At.AT_DropIdentity: DROP,
    At.AT_DropExpression: DROP,
    At.AT_AlterColumnType: ALTER_TYPE,
    At.AT_AddColumn: ADD_COLUMN,
    At.AT_SetNotNull: COLUMN_ATTRIBUTES,
    At.AT_SetIdentity: COLUMN_ATTRIBUTES,
    At.AT_AddIdentity: OTHER_CONSTRAINT,
    At.AT_ValidateConstraint: MISC,
    At.AT_AlterConstraint: MISC,
    At.AT_SetStatistics: MISC,
    At.AT_SetOptions: MISC,
    At.AT_ResetOptions: MISC,
    At.AT_SetStorage: MISC,
    At.AT_SetCompression: MISC,
    At.AT_ReplicaIdentity: MISC,
    At.AT_ChangeOwner: MISC,
    At.AT_EnableTrig: MISC,
    At.AT_DisableTrig: MISC,
    At.AT_EnableRowSecurity: MISC,
    At.AT_DisableRowSecurity: MISC,
    At.AT_ForceRowSecurity: MISC,
    At.AT_NoForceRowSecurity: MISC,
}
_INDEX_BACKED = {ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_UNIQUE, ConstrType.CONSTR_EXCLUSION}
_OTHER = {ConstrType.CONSTR_CHECK, ConstrType.CONSTR_FOREIGN}


def _pass(cmd: ast.AlterTableCmd) -> int | None:
    """The pass PostgreSQL runs `cmd` in; None when zdlint does not split it."""
    if cmd.subtype == At.AT_ColumnDefault:  # SET DEFAULT adds, DROP DEFAULT drops
        return OTHER_CONSTRAINT if cmd.def_ is not None else DROP
    if cmd.subtype == At.AT_AddConstraint:
        constraint = cmd.def_
        if not isinstance(constraint, ast.Constraint):
            return None
        if constraint.contype in _INDEX_BACKED:
            return INDEX
        return OTHER_CONSTRAINT if constraint.contype in _OTHER else None
    return _PASS.get(cmd.subtype) if cmd.subtype is not None else None


def is_multi_alter(stmt: Statement) -> bool:
    """An ALTER TABLE with several subcommands."""
    node = stmt.node
    return (
        isinstance(node, ast.AlterTableStmt)
        and node.objtype == ObjectType.OBJECT_TABLE
        and len(node.cmds or ()) > 1
    )


@dataclass(frozen=True)
class _Piece:
    leading: str  # comments written before the subcommand
    text: str  # the subcommand as written
    cmd: ast.AlterTableCmd


def split_alter(stmt: Statement, text: str) -> list[str] | None:
    """The statement as one ALTER TABLE per subcommand (each ending in `;`), in the order
    PostgreSQL runs them; None when that would not do the same. `text` is the file as
    written (it may differ from the parsed one only in template placeholders of the same
    length)."""
    if not is_multi_alter(stmt):
        return None
    node = stmt.node
    assert isinstance(node, ast.AlterTableStmt)
    cmds = [c for c in node.cmds or () if isinstance(c, ast.AlterTableCmd)]
    known = [_pass(c) for c in cmds]
    passes = [p for p in known if p is not None]
    spans = command_spans(stmt)
    if len(passes) != len(node.cmds or ()) or spans is None:
        return None
    kinds = {_index_form(c) for c in cmds} - {None}
    if len(kinds) > 1:  # USING INDEX and new indexes swap passes between versions
        return None
    gap = text[stmt.start : spans[0][0]]
    name_end = max((t.end for t in tokens(gap)), default=len(gap))
    prefix = gap[:name_end]
    pieces, previous = [], stmt.start + name_end
    for (start, end), cmd in zip(spans, cmds, strict=True):
        between = text[previous:start]
        comma = next((t for t in tokens(between) if t.name == "ASCII_44"), None)
        if comma is not None:
            between = between[: comma.start] + between[comma.end :]
        pieces.append(_Piece(between.strip(), text[start:end], cmd))
        previous = end
    order = sorted(range(len(pieces)), key=lambda i: passes[i])  # stable: written order
    groups: list[list[_Piece]] = []
    for i in order:
        piece = pieces[i]
        together = groups and piece.cmd.subtype == At.AT_AlterColumnType
        if together and groups[-1][0].cmd.subtype == At.AT_AlterColumnType:
            groups[-1].append(piece)
        else:
            groups.append([piece])
    if _uses_later_columns(groups):
        return None
    parts = []
    for group in groups:
        leading = "\n".join(p.leading for p in group if p.leading)
        body = ",\n".join(p.text for p in group)
        sql = f"{prefix} {body};"
        if not _parses_to(sql, node, [p.cmd for p in group]):
            return None
        parts.append((leading + "\n" if leading else "") + sql)
    return parts


def _index_form(cmd: ast.AlterTableCmd) -> str | None:
    constraint = cmd.def_
    if cmd.subtype != At.AT_AddConstraint or not isinstance(constraint, ast.Constraint):
        return None
    if constraint.contype not in _INDEX_BACKED:
        return None
    return "existing" if constraint.indexname else "new"


def _uses_later_columns(groups: list[list[_Piece]]) -> bool:
    """A part that names a column only a later part adds (an inline CHECK or FOREIGN
    KEY of one new column on another): run alone, it would not find it."""
    added: list[set[str]] = []
    for group in groups:
        names = set()
        for piece in group:
            column = piece.cmd.def_
            if piece.cmd.subtype == At.AT_AddColumn and isinstance(column, ast.ColumnDef):
                names.add(column.colname or "")
        added.append(names)
    for k, group in enumerate(groups):
        later = set().union(*added[k + 1 :]) if k + 1 < len(groups) else set()
        if later and _mentioned(group) & later:
            return True
    return False


def _mentioned(group: list[_Piece]) -> set[str]:
    names: set[str] = set()
    for piece in group:
        for node in walk(piece.cmd.def_):
            if isinstance(node, ast.ColumnRef):
                names.update(strings(node.fields))
            elif isinstance(node, ast.Constraint):
                for attrs in (node.keys, node.fk_attrs, node.pk_attrs, node.including):
                    names.update(strings(attrs))
    return names


def _parses_to(sql: str, original: ast.AlterTableStmt, cmds: list[ast.AlterTableCmd]) -> bool:
    """`sql` is exactly the original ALTER TABLE with only `cmds`."""
    try:
        parsed = parse_sql(sql)
    except Exception:  # noqa: BLE001 - any parse failure means the cut was wrong
        return False
    if len(parsed) != 1 or not isinstance(parsed[0].stmt, ast.AlterTableStmt):
        return False
    wanted = ast.AlterTableStmt(
        relation=original.relation,
        cmds=tuple(cmds),
        objtype=original.objtype,
        missing_ok=original.missing_ok,
    )
    return deparse(parsed[0].stmt) == deparse(wanted)


@dataclass(frozen=True)
class Region:
    """Where a split statement was, and where its parts are in the rewritten text."""

    statement: Statement
    new_start: int
    new_end: int
    first_line: int  # lines of the parts in the rewritten text
    last_line: int


@dataclass(frozen=True)
class Rewrite:
    text: str
    regions: dict[int, Region]  # by the index of the statement split

    def span_of(self, index: int) -> tuple[int, int]:
        """Where the parts of statement `index` are in the rewritten text."""
        region = self.regions[index]
        return region.new_start, region.new_end

    def restore(self, report: FileFix, original: str, gone: list[Finding]) -> FileFix:
        """`report` (of the rewritten text) as seen from the original file: findings on
        the parts point at the statement they came from, `gone` (the original's findings
        that splitting alone removed) count as fixed, and the main file's original text
        is the one that was read."""
        regions = sorted(self.regions.values(), key=lambda r: r.first_line)

        def old_span(span: Span) -> Span:
            shift = 0
            for region in regions:
                if region.first_line <= span.line <= region.last_line:
                    return region.statement.span
                if span.line > region.last_line:
                    old = region.statement.span
                    shift += (old.end_line - old.line) - (region.last_line - region.first_line)
            return replace(span, line=span.line + shift, end_line=span.end_line + shift)

        fixed = [replace(f, span=old_span(f.span)) for f in report.fixed] + gone
        unfixable = [(replace(f, span=old_span(f.span)), why) for f, why in report.unfixable]
        path = report.outputs[0].path if report.outputs else None
        outputs = [replace(o, original=original) if o.path == path else o for o in report.outputs]
        return replace(report, fixed=fixed, unfixable=unfixable, outputs=outputs)


def rewrite(text: str, statements: list[Statement]) -> Rewrite | None:
    """`text` with each of `statements` split (those that can be); None when none can."""
    pieces, regions, position, offset = [], {}, 0, 0
    for stmt in sorted(statements, key=lambda s: s.start):
        parts = split_alter(stmt, text)
        if parts is None:
            continue
        end = _past_semicolon(text, stmt.end)
        pieces.append(text[position : stmt.start])
        offset += len(pieces[-1])
        body = "\n".join(parts)
        first_line = "".join(pieces).count("\n") + 1
        regions[stmt.index] = Region(
            stmt, offset, offset + len(body), first_line, first_line + body.count("\n")
        )
        pieces.append(body)
        offset += len(body)
        position = end
    if not regions:
        return None
    pieces.append(text[position:])
    return Rewrite("".join(pieces), regions)


def _past_semicolon(text: str, end: int) -> int:
    i = end
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    return i + 1 if i < len(text) and text[i] == ";" else end
