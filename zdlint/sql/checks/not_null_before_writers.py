"""ZD310: NOT NULL on a column this release adds, before any running code writes it."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType

from zdlint.findings import Hit
from zdlint.sql.checks._alter import existing_table_commands
from zdlint.sql.parse import Statement
from zdlint.sql.schema import not_null_column
from zdlint.sql.state import MigrationState


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


def check(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    assert isinstance(stmt.node, ast.AlterTableStmt)
    for table, display, cmd in existing_table_commands(
        stmt.node, state, AlterTableType.AT_SetNotNull, AlterTableType.AT_AddConstraint
    ):
        for column in _required_columns(cmd):
            if (table, column) not in state.added_columns:
                continue
            known = state.schema.column(table, column)
            if known is not None and known.default is not None:
                continue  # the default fills it for writers that do not know it
            yield Hit({"table": display, "column": column}, part=cmd)


CHECKS = [("ZD310", [AlterTableType.AT_SetNotNull, AlterTableType.AT_AddConstraint], check)]
