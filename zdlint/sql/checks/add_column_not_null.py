"""ZD301: ADD COLUMN … NOT NULL without a default fails on a non-empty table and breaks
inserts from the running version."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType

from zdlint.findings import Hit
from zdlint.sql.checks._alter import column_constraints, existing_table_commands
from zdlint.sql.checks.add_column_volatile_default import SERIAL_TYPES
from zdlint.sql.names import type_name
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState

_FILLS_ITSELF = {ConstrType.CONSTR_DEFAULT, ConstrType.CONSTR_IDENTITY, ConstrType.CONSTR_GENERATED}


def check(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    assert isinstance(stmt.node, ast.AlterTableStmt)
    for _table, display, cmd in existing_table_commands(
        stmt.node, state, AlterTableType.AT_AddColumn
    ):
        column = cmd.def_
        if not isinstance(column, ast.ColumnDef):
            continue
        kinds = {c.contype for c in column_constraints(column)}
        not_null = (
            column.is_not_null
            or ConstrType.CONSTR_NOTNULL in kinds
            or (ConstrType.CONSTR_PRIMARY in kinds)
        )
        if not not_null or kinds & _FILLS_ITSELF or type_name(column.typeName) in SERIAL_TYPES:
            continue
        yield Hit({"table": display, "column": column.colname}, part=cmd)


CHECKS = [("ZD301", [AlterTableType.AT_AddColumn], check)]
