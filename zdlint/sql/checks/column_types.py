"""ZD505 / ZD506 (advisory): json instead of jsonb, timestamp without time zone.

These are about the type a column is given, so they look at CREATE TABLE too.
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType

from zdlint.findings import Hit
from zdlint.sql.names import qualified_name, type_name
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState


def _typed_columns(node: ast.Node | None) -> Iterator[tuple[str, str, ast.TypeName | None, int]]:
    """(table, column, type, location) of every column a statement gives a type."""
    if isinstance(node, ast.CreateStmt):
        table = qualified_name(node.relation)
        for element in node.tableElts or ():
            if isinstance(element, ast.ColumnDef):
                yield table, element.colname or "", element.typeName, element.location or 0
    elif isinstance(node, ast.AlterTableStmt):
        table = qualified_name(node.relation)
        for cmd in node.cmds or ():
            column = cmd.def_
            if not isinstance(column, ast.ColumnDef):
                continue
            if cmd.subtype == AlterTableType.AT_AddColumn:
                yield table, column.colname or "", column.typeName, column.location or 0
            elif cmd.subtype == AlterTableType.AT_AlterColumnType:
                yield table, cmd.name or "", column.typeName, -1


def _columns_of_type(stmt: Statement, wanted: str) -> Iterator[Hit]:
    for table, column, type_node, location in _typed_columns(stmt.node):
        if type_name(type_node) == wanted:
            start = stmt.base + location if location > 0 else None
            end = None if start is None else start + len(column)
            yield Hit({"table": table, "column": column}, start=start, end=end)


def json_column(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    yield from _columns_of_type(stmt, "json")


def timestamp_column(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    yield from _columns_of_type(stmt, "timestamp")


# Statements that declare column types: CREATE TABLE, ALTER TABLE ADD COLUMN and TYPE.
_TYPED = [ast.CreateStmt, AlterTableType.AT_AddColumn, AlterTableType.AT_AlterColumnType]
CHECKS = [
    ("ZD505", _TYPED, json_column),
    ("ZD506", _TYPED, timestamp_column),
]
