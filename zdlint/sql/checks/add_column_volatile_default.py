"""ZD201: ADD COLUMN whose default must be computed per row rewrites the whole table."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType

from zdlint.findings import Hit
from zdlint.sql.checks._alter import column_constraints, sized_table_commands
from zdlint.sql.names import function_names, type_name
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState

# Before PostgreSQL 11 every non-NULL default rewrote the table.
CONSTANT_DEFAULT_WITHOUT_REWRITE_FROM = 11

# Volatile built-in functions (pg_proc.provolatile = 'v') seen in column defaults.
VOLATILE_FUNCTIONS = frozenset(
    {
        "gen_random_uuid",
        "uuid_generate_v1",
        "uuid_generate_v1mc",
        "uuid_generate_v4",
        "uuidv4",
        "uuidv7",
        "random",
        "random_normal",
        "clock_timestamp",
        "timeofday",
        "statement_timestamp",
        "nextval",
        "txid_current",
        "gen_random_bytes",
        "setseed",
    }
)
SERIAL_TYPES = frozenset({"serial", "serial4", "bigserial", "serial8", "smallserial", "serial2"})


def _reason(column: ast.ColumnDef, pg_version: int) -> str | None:
    if type_name(column.typeName) in SERIAL_TYPES:
        return f"type {type_name(column.typeName)} fills every row from a sequence"
    for con in column_constraints(column):
        if con.contype == ConstrType.CONSTR_IDENTITY:
            return "an identity column fills every row from a sequence"
        if con.contype == ConstrType.CONSTR_DEFAULT and con.raw_expr is not None:
            volatile = sorted(function_names(con.raw_expr) & VOLATILE_FUNCTIONS)
            if volatile:
                return f"the default {volatile[0]}() is volatile and computed for every row"
            if pg_version < CONSTANT_DEFAULT_WITHOUT_REWRITE_FROM and not _is_null(con.raw_expr):
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
        reason = _reason(column, state.pg_version)
        if reason:
            yield Hit({"table": display, "column": column.colname, "reason": reason}, part=cmd)


CHECKS = [("ZD201", [AlterTableType.AT_AddColumn], check)]
