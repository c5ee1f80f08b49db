"""ZD310: a column this release adds left NOT NULL without a DEFAULT, before any running
code writes it: made NOT NULL in the migration that adds it, or added NOT NULL with a
DEFAULT (which fills the existing rows) whose DEFAULT is then dropped.

"This release" is this file and, when the release is known (`--diff-base`: the
migrations added on the branch), the earlier migrations of the release: a column one of
them added is just as unknown to the running version. A later file of the same folder
may ship with it or not, and nothing in the folder says which.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType

from zdlint.findings import Hit
from zdlint.sql.checks._alter import column_constraints, existing_table_commands
from zdlint.sql.names import last_name, relation_name
from zdlint.sql.parse import Statement
from zdlint.sql.plpgsql import embedded_queries
from zdlint.sql.schema import not_null_column
from zdlint.sql.state import MigrationState

_NOT_NULL = (ConstrType.CONSTR_NOTNULL, ConstrType.CONSTR_PRIMARY)
MADE_NOT_NULL = {
    "change": "made NOT NULL",
    "now": "Ship the column nullable (or with a DEFAULT) now",
    "then": "add NOT NULL",
}
DEFAULT_DROPPED = {
    "change": "left NOT NULL without a DEFAULT",
    "now": "Keep the DEFAULT now",
    "then": "drop it",
}


def _required_columns(cmd: ast.AlterTableCmd) -> list[str]:
    """Columns that SET NOT NULL or a CHECK (col IS NOT NULL) makes every INSERT set."""
    if cmd.subtype == AlterTableType.AT_SetNotNull and cmd.name:
        return [cmd.name]
    con = cmd.def_
    if (
        cmd.subtype == AlterTableType.AT_AddConstraint
        and isinstance(con, ast.Constraint)
        and con.contype == ConstrType.CONSTR_CHECK
    ):
        column = not_null_column(con.raw_expr)
        return [column] if column else []
    return []


def _drops_default(cmd: ast.AlterTableCmd) -> bool:
    """DROP DEFAULT, or SET DEFAULT NULL: an INSERT that omits the column now gives NULL."""
    if cmd.subtype != AlterTableType.AT_ColumnDefault:
        return False
    default = cmd.def_
    return default is None or (isinstance(default, ast.A_Const) and bool(default.isnull))


def _default_set_again(node: ast.AlterTableStmt, column: str, state: MigrationState) -> bool:
    """The rest of the open transaction gives `column` a DEFAULT again: writers never
    see it without one."""
    table = relation_name(node.relation)
    later, _closed = state.rest_of_transaction(node)
    return any(
        isinstance(other, ast.AlterTableStmt)
        and relation_name(other.relation) == table
        and any(
            cmd.subtype == AlterTableType.AT_ColumnDefault
            and cmd.name == column
            and not _drops_default(cmd)
            for cmd in other.cmds or ()
        )
        for other in later
    )


def _inserted_by_trigger(table: str, column: str, state: MigrationState) -> bool:
    """A trigger function this file (re)defines, which a trigger runs, INSERTs into
    `table` naming `column`: the rows of a table kept by triggers (aggregates, audit
    logs) come from that function, which the writes of the running version fire, and
    this file's version of it sets the column."""
    running = state.schema.trigger_functions()
    for name, text in state.routines.items():
        if name not in running or name not in state.schema.trigger_only_functions:
            continue
        for query in embedded_queries(text):
            insert = query.node
            if (
                isinstance(insert, ast.InsertStmt)
                and relation_name(insert.relation) == table
                and any(
                    isinstance(c, ast.ResTarget) and c.name == column for c in insert.cols or ()
                )
            ):
                return True
    return False


def _not_null_in(node: ast.AlterTableStmt) -> set[str]:
    """Columns this statement adds NOT NULL (or as the primary key) or sets NOT NULL."""
    found = set()
    for cmd in node.cmds or ():
        column = cmd.def_
        if cmd.subtype == AlterTableType.AT_AddColumn and isinstance(column, ast.ColumnDef):
            constraints = column_constraints(column)
            if column.is_not_null or any(c.contype in _NOT_NULL for c in constraints):
                found.add(column.colname or "")
        elif cmd.subtype == AlterTableType.AT_SetNotNull:
            found.add(cmd.name or "")
    return found


_BEFORE, _INSERT = 1 << 1, 1 << 2  # CreateTrigStmt timing and event bits (trigger.h)


def _filled_by_trigger(stmt: Statement, state: MigrationState, table: str, column: str) -> bool:
    """A row trigger BEFORE INSERT on `table`, created earlier in this file, runs a
    function of this file that assigns `NEW.column`: writers that do not know the column
    still fill it (an expand/contract sync trigger does exactly this)."""
    functions = {
        last_name(node.funcname).lower()
        for earlier in state.file_statements[: stmt.index]
        if isinstance(node := earlier.node, ast.CreateTrigStmt)
        and node.row
        and (node.timing or 0) & _BEFORE
        and (node.events or 0) & _INSERT
        and relation_name(node.relation) == table
    }
    assigns = re.compile(rf'\bnew\s*\.\s*("?){re.escape(column)}\1\s*:?=', re.IGNORECASE)
    return any(assigns.search(state.routines.get(name, "")) for name in functions)


def check(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    node = stmt.node
    assert isinstance(node, ast.AlterTableStmt)
    table = relation_name(node.relation)
    added_here = {
        cmd.def_.colname
        for cmd in node.cmds or ()
        if cmd.subtype == AlterTableType.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef)
    }
    not_null_here = _not_null_in(node)
    for _table, display, cmd in existing_table_commands(
        node,
        state,
        AlterTableType.AT_SetNotNull,
        AlterTableType.AT_AddConstraint,
        AlterTableType.AT_ColumnDefault,
    ):
        if _drops_default(cmd):
            column = cmd.name or ""
            known = state.schema.column(table, column)
            added = column in added_here or (table, column) in state.added_columns
            if (
                added
                and (column in not_null_here or (known is not None and known.not_null))
                and not _default_set_again(node, column, state)
            ):
                yield Hit({"table": display, "column": column, **DEFAULT_DROPPED}, part=cmd)
            continue
        for column in _required_columns(cmd):
            if (table, column) not in state.added_columns:
                continue
            if _inserted_by_trigger(table, column, state):
                continue
            known = state.schema.column(table, column)
            if known is not None and known.default is not None:
                continue  # the default fills it for writers that do not know it
            if _filled_by_trigger(stmt, state, table, column):
                continue
            yield Hit({"table": display, "column": column, **MADE_NOT_NULL}, part=cmd)


CHECKS = [
    (
        "ZD310",
        [
            AlterTableType.AT_SetNotNull,
            AlterTableType.AT_AddConstraint,
            AlterTableType.AT_ColumnDefault,
        ],
        check,
    )
]
