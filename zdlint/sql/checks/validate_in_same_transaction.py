"""ZD403: VALIDATE in the transaction that added the constraint NOT VALID."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType

from zdlint.findings import Hit
from zdlint.sql.checks._alter import existing_table_commands
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState


def _added_not_valid_here(node: ast.AlterTableStmt) -> set[str]:
    """Constraints added NOT VALID by this same statement (`ADD …, VALIDATE …`)."""
    return {
        cmd.def_.conname
        for cmd in node.cmds or ()
        if cmd.subtype == AlterTableType.AT_AddConstraint
        and isinstance(cmd.def_, ast.Constraint)
        and cmd.def_.skip_validation
        and cmd.def_.conname
    }


def check(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    node = stmt.node
    assert isinstance(node, ast.AlterTableStmt)
    same_statement = _added_not_valid_here(node)
    for table, display, cmd in existing_table_commands(
        node, state, AlterTableType.AT_ValidateConstraint
    ):
        earlier = state.in_transaction and (table, cmd.name) in state.not_valid_in_transaction
        if earlier or cmd.name in same_statement:
            yield Hit({"table": display, "constraint": cmd.name}, part=cmd)


CHECKS = [("ZD403", [AlterTableType.AT_ValidateConstraint], check)]
