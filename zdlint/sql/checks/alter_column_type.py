"""ZD202: ALTER COLUMN TYPE rewrites the table unless the new type is binary-compatible."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType

from zdlint.findings import Hit
from zdlint.sql.checks._alter import sized_table_commands
from zdlint.sql.names import type_modifiers, type_name
from zdlint.sql.parse import Statement
from zdlint.sql.schema import ColumnType
from zdlint.sql.state import MigrationState
from zdlint.sql.type_changes import alter_type_rewrites

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
    return display_type_of(ColumnType(type_name(node), tuple(type_modifiers(node))))


def display_type_of(kind: ColumnType) -> str:
    shown = DISPLAY_NAMES.get(kind.name, kind.name)
    mods = f"({', '.join(map(str, kind.modifiers))})" if kind.modifiers else ""
    # as PostgreSQL prints them: `timestamp(3) without time zone`, `time(6) with time zone`
    base, _, zone = shown.partition(" with")
    zone = f" with{zone}" if zone else ""
    return f"{base}{mods}{zone}{'[]' if kind.array else ''}"


def check(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    assert isinstance(stmt.node, ast.AlterTableStmt)
    for table, display, cmd in sized_table_commands(
        stmt.node, state, AlterTableType.AT_AlterColumnType
    ):
        column = cmd.def_
        if not isinstance(column, ast.ColumnDef):
            continue
        using = column.raw_default is not None
        known = state.schema.column(table, cmd.name or "")
        old = known.type if known is not None else None
        name = cmd.name or ""
        if not alter_type_rewrites(old, name, column, state.timezone_utc, state.pg_version):
            continue
        source = f" from {display_type_of(old)}" if old is not None else ""
        yield Hit(
            {
                "table": display,
                "column": cmd.name or "",
                "type": display_type(column.typeName),
                "from": source,
                "using": " with a USING expression" if using else "",
            },
            part=cmd,
        )


CHECKS = [("ZD202", [AlterTableType.AT_AlterColumnType], check)]
