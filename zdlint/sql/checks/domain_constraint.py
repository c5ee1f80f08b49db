"""ZD114: checking a domain constraint scans every table that uses the domain."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast

from zdlint.findings import Hit
from zdlint.sql.names import last_name
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState

# AlterDomainStmt.subtype: C = ADD CONSTRAINT, O = SET NOT NULL, V = VALIDATE CONSTRAINT.
_ADD, _SET_NOT_NULL, _VALIDATE = "C", "O", "V"


def _action(node: ast.AlterDomainStmt) -> str | None:
    if node.subtype == _ADD and isinstance(node.def_, ast.Constraint):
        return None if node.def_.skip_validation else "ADD CONSTRAINT"
    if node.subtype == _SET_NOT_NULL:
        return "SET NOT NULL"
    if node.subtype == _VALIDATE:
        return "VALIDATE CONSTRAINT"
    return None


def check(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    node = stmt.node
    assert isinstance(node, ast.AlterDomainStmt)
    domain = last_name(node.typeName)
    action = _action(node)
    if action is None or domain in state.created_types:
        return
    yield Hit({"domain": domain, "action": action})


CHECKS = [("ZD114", [ast.AlterDomainStmt], check)]
