"""ZD301: ADD COLUMN … NOT NULL without a default fails on a non-empty table and breaks
inserts from the running version."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType

from zdlint.findings import Hit
from zdlint.sql.checks._alter import existing_table_commands
from zdlint.sql.column_defs import not_null_without_value
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState


def check(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    assert isinstance(stmt.node, ast.AlterTableStmt)
    for _table, display, cmd in existing_table_commands(
        stmt.node, state, AlterTableType.AT_AddColumn
    ):
        column = cmd.def_
        if isinstance(column, ast.ColumnDef) and not_null_without_value(column):
            yield Hit({"table": display, "column": column.colname}, part=cmd)


CHECKS = [("ZD301", [AlterTableType.AT_AddColumn], check)]
