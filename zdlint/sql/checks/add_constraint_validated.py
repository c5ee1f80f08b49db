"""ZD104 / ZD105: CHECK and FOREIGN KEY constraints validated while the lock is held."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType

from zdlint.findings import Hit
from zdlint.sql.checks._alter import sized_table_commands
from zdlint.sql.names import qualified_name
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState


def _validated_constraints(
    stmt: Statement, state: MigrationState, contype: ConstrType
) -> Iterator[tuple[str, ast.Constraint]]:
    assert isinstance(stmt.node, ast.AlterTableStmt)
    for _table, display, cmd in sized_table_commands(
        stmt.node, state, AlterTableType.AT_AddConstraint
    ):
        con = cmd.def_
        if isinstance(con, ast.Constraint) and con.contype == contype and not con.skip_validation:
            yield display, con


def check_constraint(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    for display, con in _validated_constraints(stmt, state, ConstrType.CONSTR_CHECK):
        yield Hit({"table": display, "constraint": con.conname or "(unnamed)"})


def foreign_key(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    for display, con in _validated_constraints(stmt, state, ConstrType.CONSTR_FOREIGN):
        yield Hit(
            {
                "table": display,
                "constraint": con.conname or "(unnamed)",
                "referenced": qualified_name(con.pktable),
            }
        )


CHECKS = [
    ("ZD104", [AlterTableType.AT_AddConstraint], check_constraint),
    ("ZD105", [AlterTableType.AT_AddConstraint], foreign_key),
]
