"""ZD201: ADD COLUMN whose default must be computed per row rewrites the whole table."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType

from zdlint.findings import Hit
from zdlint.sql.checks._alter import column_constraints, sized_table_commands
from zdlint.sql.names import type_name
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState
from zdlint.sql.volatility import volatile_calls

# Before PostgreSQL 11 every non-NULL default rewrote the table.
CONSTANT_DEFAULT_WITHOUT_REWRITE_FROM = 11

SERIAL_TYPES = frozenset({"serial", "serial4", "bigserial", "serial8", "smallserial", "serial2"})


def _reason(column: ast.ColumnDef, state: MigrationState) -> str | None:
    if type_name(column.typeName) in SERIAL_TYPES:
        return f"type {type_name(column.typeName)} fills every row from a sequence"
    for con in column_constraints(column):
        if con.contype == ConstrType.CONSTR_IDENTITY:
            return "an identity column fills every row from a sequence"
        if con.contype == ConstrType.CONSTR_DEFAULT and con.raw_expr is not None:
            volatile = volatile_calls(con.raw_expr, state.schema.functions)
            if volatile:
                return f"the default {volatile[0]}() is volatile and computed for every row"
            if state.pg_version < CONSTANT_DEFAULT_WITHOUT_REWRITE_FROM and not _is_null(
                con.raw_expr
            ):
                since = CONSTANT_DEFAULT_WITHOUT_REWRITE_FROM
                return f"before PostgreSQL {since} every default rewrites the table"
    return None


def _is_null(expr: object) -> bool:
    return isinstance(expr, ast.A_Const) and bool(expr.isnull)


def check(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    assert isinstance(stmt.node, ast.AlterTableStmt)
    for _table, display, cmd in sized_table_commands(stmt.node, state, AlterTableType.AT_AddColumn):
        column = cmd.def_
        if not isinstance(column, ast.ColumnDef):
            continue
        reason = _reason(column, state)
        if reason:
            yield Hit({"table": display, "column": column.colname, "reason": reason}, part=cmd)


CHECKS = [("ZD201", [AlterTableType.AT_AddColumn], check)]
