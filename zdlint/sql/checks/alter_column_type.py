"""ZD202: ALTER COLUMN TYPE rewrites the table unless the new type is binary-compatible."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType

from zdlint.findings import Hit
from zdlint.sql.checks._alter import existing_table_commands
from zdlint.sql.names import type_modifiers, type_name
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState

# Targets that are no rewrite from their usual sources: varchar widening or dropping the
# limit, varchar <-> text, numeric precision increase, timestamp -> timestamptz (UTC),
# cidr -> inet. Without the column's current type we give them the benefit of the doubt.
BINARY_COMPATIBLE_TARGETS = frozenset(
    {"text", "varchar", "citext", "numeric", "timestamptz", "inet", "varbit"}
)
DISPLAY_NAMES = {
    "int2": "smallint",
    "int4": "integer",
    "int8": "bigint",
    "float4": "real",
    "float8": "double precision",
    "bool": "boolean",
    "bpchar": "char",
    "timestamptz": "timestamp with time zone",
    "timestamp": "timestamp without time zone",
}


def display_type(node: ast.TypeName | None) -> str:
    name = type_name(node)
    mods = type_modifiers(node)
    shown = DISPLAY_NAMES.get(name, name)
    return f"{shown}({', '.join(map(str, mods))})" if mods else shown


def check(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    assert isinstance(stmt.node, ast.AlterTableStmt)
    for _table, display, cmd in existing_table_commands(
        stmt.node, state, AlterTableType.AT_AlterColumnType
    ):
        column = cmd.def_
        if not isinstance(column, ast.ColumnDef):
            continue
        target = type_name(column.typeName)
        using = column.raw_default is not None
        if target in BINARY_COMPATIBLE_TARGETS and not using:
            continue
        yield Hit(
            {
                "table": display,
                "column": cmd.name or "",
                "type": display_type(column.typeName),
                "using": " with a USING expression" if using else "",
            }
        )


CHECKS = [("ZD202", [ast.AlterTableStmt], check)]
