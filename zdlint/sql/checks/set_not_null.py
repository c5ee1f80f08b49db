"""ZD101: SET NOT NULL scans the table under ACCESS EXCLUSIVE unless a CHECK proves it."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType

from zdlint.findings import Hit
from zdlint.sql.checks._alter import existing_table_commands
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState

# From PostgreSQL 12 a validated CHECK (col IS NOT NULL) lets SET NOT NULL skip its scan.
CHECK_SKIPS_SCAN_FROM = 12


def check(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    assert isinstance(stmt.node, ast.AlterTableStmt)
    for table, display, cmd in existing_table_commands(
        stmt.node, state, AlterTableType.AT_SetNotNull
    ):
        column = cmd.name or ""
        known = state.schema.column(table, column)
        if known is not None and known.not_null:
            continue  # already NOT NULL: nothing to verify
        if state.pg_version >= CHECK_SKIPS_SCAN_FROM and state.has_validated_not_null_check(
            table, column
        ):
            continue
        yield Hit({"table": display, "column": column})


CHECKS = [("ZD101", [ast.AlterTableStmt], check)]
