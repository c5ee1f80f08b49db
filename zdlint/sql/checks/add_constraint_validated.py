"""ZD104 / ZD105: CHECK and FOREIGN KEY constraints validated while the lock is held."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType

from zdlint.findings import Hit
from zdlint.sql.checks._alter import existing_table_commands
from zdlint.sql.default_names import constraint_name
from zdlint.sql.names import qualified_name, quote_ident, quote_qualified, relation_name
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState
from zdlint.versions import NOT_VALID_FOREIGN_KEY_ON_PARTITIONED_TABLE


def _validated_constraints(
    stmt: Statement, state: MigrationState, contype: ConstrType
) -> Iterator[tuple[str, str, ast.Constraint]]:
    """(display name of the table, the constraint's name, the constraint)."""
    assert isinstance(stmt.node, ast.AlterTableStmt)
    for table, display, cmd in existing_table_commands(
        stmt.node, state, AlterTableType.AT_AddConstraint
    ):
        con = cmd.def_
        if isinstance(con, ast.Constraint) and con.contype == contype and not con.skip_validation:
            yield display, constraint_name(table, con), con


def check_constraint(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    for display, name, _con in _validated_constraints(stmt, state, ConstrType.CONSTR_CHECK):
        yield Hit({"table": display, "constraint": name})


def foreign_key(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    assert isinstance(stmt.node, ast.AlterTableStmt)
    for display, name, con in _validated_constraints(stmt, state, ConstrType.CONSTR_FOREIGN):
        yield Hit(
            {
                "table": display,
                "constraint": name,
                "instead": foreign_key_advice(stmt.node, display, name, state),
                "referenced": qualified_name(con.pktable),
            }
        )


def foreign_key_advice(
    node: ast.AlterTableStmt, display: str, name: str, state: MigrationState
) -> str:
    """ZD105's help: NOT VALID then VALIDATE, where the target version allows NOT VALID."""
    gate = NOT_VALID_FOREIGN_KEY_ON_PARTITIONED_TABLE
    if state.pg_version < gate.since and state.is_partitioned(relation_name(node.relation)):
        return (
            f"`{display}` is partitioned, and before PostgreSQL {gate.since} it refuses NOT VALID "
            f"foreign keys: {gate.instead}"
        )
    return (
        f"Add it NOT VALID, then run `ALTER TABLE {quote_qualified(display)} VALIDATE "
        f"CONSTRAINT {quote_ident(name)};` "
        "in a separate transaction"
    )


CHECKS = [
    ("ZD104", [AlterTableType.AT_AddConstraint], check_constraint),
    ("ZD105", [AlterTableType.AT_AddConstraint], foreign_key),
]
