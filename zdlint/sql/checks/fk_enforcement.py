"""ZD504: switching off the triggers that enforce foreign keys.

DISABLE TRIGGER takes SHARE ROW EXCLUSIVE on the table, which blocks every other
session's writes and is held until COMMIT: when the same transaction runs ENABLE TRIGGER
ALL on the table before it commits, no other session can write a row while enforcement
is off. (ENABLE TRIGGER USER leaves the foreign-key triggers disabled.)
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, VariableSetKind

from zdlint.findings import Hit
from zdlint.sql.checks._alter import existing_table_commands
from zdlint.sql.names import const_string, relation_name
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState


def _enabled_again(node: ast.Node, table: str, state: MigrationState) -> bool:
    """The open transaction runs ENABLE TRIGGER ALL on `table` after `node`."""
    return any(
        isinstance(later, ast.AlterTableStmt)
        and relation_name(later.relation) == table
        and any(cmd.subtype == AlterTableType.AT_EnableTrigAll for cmd in later.cmds or ())
        for later in state.rest_of_transaction(node)[0]
    )


def disable_trigger_all(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    assert isinstance(stmt.node, ast.AlterTableStmt)
    for table, display, cmd in existing_table_commands(
        stmt.node, state, AlterTableType.AT_DisableTrigAll
    ):
        if _enabled_again(stmt.node, table, state):
            continue
        yield Hit(
            {"what": f"`ALTER TABLE {display} DISABLE TRIGGER ALL`", "scope": f" on `{display}`"},
            part=cmd,
        )


def replica_role(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    node = stmt.node
    assert isinstance(node, ast.VariableSetStmt)
    if (node.name or "").lower() != "session_replication_role":
        return
    if node.kind != VariableSetKind.VAR_SET_VALUE or not node.args:
        return
    if (const_string(node.args[0]) or "").lower() == "replica":
        local = "SET LOCAL" if node.is_local else "SET"
        yield Hit(
            {"what": f"`{local} session_replication_role = replica`", "scope": " for this session"}
        )


def check(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    if isinstance(stmt.node, ast.AlterTableStmt):
        yield from disable_trigger_all(stmt, state)
    else:
        yield from replica_role(stmt, state)


CHECKS = [("ZD504", [AlterTableType.AT_DisableTrigAll, ast.VariableSetStmt], check)]
