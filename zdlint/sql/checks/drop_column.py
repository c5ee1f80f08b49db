"""ZD304: dropping a column the running version may still read or write."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType

from zdlint.findings import Hit
from zdlint.sql.checks._alter import existing_table_commands
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState


def check(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    assert isinstance(stmt.node, ast.AlterTableStmt)
    for table, display, cmd in existing_table_commands(
        stmt.node, state, AlterTableType.AT_DropColumn
    ):
        if (table, cmd.name) in state.added_columns:
            continue  # added by this file: the running version never used it
        yield Hit({"table": display, "column": cmd.name or ""}, part=cmd)


CHECKS = [("ZD304", [AlterTableType.AT_DropColumn], check)]
