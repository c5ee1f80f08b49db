"""ZD113: ADD EXCLUDE builds its index while holding ACCESS EXCLUSIVE."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType

from zdlint.findings import Hit
from zdlint.sql.checks._alter import sized_table_commands
from zdlint.sql.default_names import constraint_name
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState


def check(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    assert isinstance(stmt.node, ast.AlterTableStmt)
    for table, display, cmd in sized_table_commands(
        stmt.node, state, AlterTableType.AT_AddConstraint
    ):
        con = cmd.def_
        if isinstance(con, ast.Constraint) and con.contype == ConstrType.CONSTR_EXCLUSION:
            yield Hit({"table": display, "constraint": constraint_name(table, con)}, part=cmd)


CHECKS = [("ZD113", [AlterTableType.AT_AddConstraint], check)]
