"""ZD106: ADD UNIQUE / PRIMARY KEY builds its index under ACCESS EXCLUSIVE, whether added
as a table constraint or written on a new column (`ADD COLUMN c int UNIQUE`)."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType

from zdlint.findings import Hit
from zdlint.sql.checks._alter import new_column_constraints, sized_table_commands
from zdlint.sql.default_names import constraint_name
from zdlint.sql.identifiers import quote_ident
from zdlint.sql.names import relation_name, strings
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState

_KINDS = {ConstrType.CONSTR_UNIQUE: "UNIQUE", ConstrType.CONSTR_PRIMARY: "PRIMARY KEY"}


def check(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    node = stmt.node
    assert isinstance(node, ast.AlterTableStmt)
    for table, display, cmd in sized_table_commands(node, state, AlterTableType.AT_AddConstraint):
        con = cmd.def_
        if isinstance(con, ast.Constraint) and con.contype in _KINDS and not con.indexname:
            yield Hit(
                {
                    "table": display,
                    "kind": _KINDS[con.contype],
                    "constraint": constraint_name(table, con),
                    "columns": _columns(strings(con.keys)),
                    "first": "Build the index first",
                },
                part=cmd,
            )
    for display, cmd, column, con in new_column_constraints(node, state, *_KINDS):
        primary = con.contype == ConstrType.CONSTR_PRIMARY
        kind = "PRIMARY KEY" if primary else "UNIQUE"
        fill = " and fill it" if primary else ""
        name = con.conname or constraint_name(relation_name(node.relation), con, column)
        yield Hit(
            {
                "table": display,
                "kind": kind,
                "constraint": name,
                "columns": _columns([column]),
                "first": f"Add the column {column} without {kind}{fill}, then build the index",
            },
            part=cmd,
        )


def _columns(names: list[str]) -> str:
    return ", ".join(quote_ident(name) for name in names)


CHECKS = [
    ("ZD106", [AlterTableType.AT_AddConstraint, AlterTableType.AT_AddColumn], check),
]
