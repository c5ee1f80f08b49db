"""ZD104 / ZD105: CHECK and FOREIGN KEY constraints validated while the lock is held
(ZD104 also for a CHECK written on a new column)."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType
from pglast.stream import RawStream

from zdlint.findings import Hit
from zdlint.sql.checks._alter import existing_table_commands, new_column_constraints
from zdlint.sql.names import constraint_name, qualified_name, relation_name
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState


def _validated_constraints(
    stmt: Statement, state: MigrationState, contype: ConstrType
) -> Iterator[tuple[str, ast.Constraint, ast.AlterTableCmd]]:
    assert isinstance(stmt.node, ast.AlterTableStmt)
    for _table, display, cmd in existing_table_commands(
        stmt.node, state, AlterTableType.AT_AddConstraint
    ):
        con = cmd.def_
        if isinstance(con, ast.Constraint) and con.contype == contype and not con.skip_validation:
            yield display, con, cmd


def check_constraint(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    node = stmt.node
    assert isinstance(node, ast.AlterTableStmt)
    for display, con, cmd in _validated_constraints(stmt, state, ConstrType.CONSTR_CHECK):
        name = con.conname or "(unnamed)"
        yield Hit({"table": display, "constraint": name, "add": "Add it"}, part=cmd)
    # A CHECK written on a new column is checked against every row too, even when the
    # column is NULL everywhere (measured: `ADD COLUMN c int CHECK (c > 0)` scans).
    for display, cmd, column, con in new_column_constraints(node, state, ConstrType.CONSTR_CHECK):
        name = con.conname or constraint_name(relation_name(node.relation), con, column)
        expression = RawStream()(con.raw_expr) if con.raw_expr is not None else ""
        add = f"Add `{column}` without the CHECK, then ADD CONSTRAINT {name} CHECK ({expression})"
        yield Hit({"table": display, "constraint": name, "add": add}, part=cmd)


def foreign_key(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    for display, con, cmd in _validated_constraints(stmt, state, ConstrType.CONSTR_FOREIGN):
        yield Hit(
            {
                "table": display,
                "constraint": con.conname or "(unnamed)",
                "referenced": qualified_name(con.pktable),
            },
            part=cmd,
        )


CHECKS = [
    ("ZD104", [AlterTableType.AT_AddConstraint, AlterTableType.AT_AddColumn], check_constraint),
    ("ZD105", [AlterTableType.AT_AddConstraint], foreign_key),
]
