"""ZD106: ADD UNIQUE / PRIMARY KEY builds its index under ACCESS EXCLUSIVE."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType

from zdlint.findings import Hit
from zdlint.sql.checks._alter import sized_table_commands
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState

_KINDS = {ConstrType.CONSTR_UNIQUE: "UNIQUE", ConstrType.CONSTR_PRIMARY: "PRIMARY KEY"}


def check(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    assert isinstance(stmt.node, ast.AlterTableStmt)
    for _table, display, cmd in sized_table_commands(
        stmt.node, state, AlterTableType.AT_AddConstraint
    ):
        con = cmd.def_
        if isinstance(con, ast.Constraint) and con.contype in _KINDS and not con.indexname:
            yield Hit(
                {
                    "table": display,
                    "kind": _KINDS[con.contype],
                    "constraint": con.conname or "(unnamed)",
                }
            )


CHECKS = [("ZD106", [AlterTableType.AT_AddConstraint], check)]
