"""ZD309: dropping the primary key or changing REPLICA IDENTITY of a replicated table."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType

from zdlint.findings import Hit
from zdlint.sql.checks._alter import existing_table_commands
from zdlint.sql.names import relation_name
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState

_IDENTITIES = {
    "n": ("REPLICA IDENTITY NOTHING", "can no longer replicate UPDATE and DELETE on"),
    "d": (
        "REPLICA IDENTITY DEFAULT",
        "replicate UPDATE and DELETE only while there is a primary key on",
    ),
    "i": ("REPLICA IDENTITY USING INDEX", "identify rows by another key on"),
    "f": ("REPLICA IDENTITY FULL", "log and compare whole rows for every UPDATE and DELETE on"),
}


def _is_primary_key(table: str, name: str, state: MigrationState) -> bool:
    known = state.schema.tables.get(table)
    if known is not None and name in known.constraints:
        return known.constraints[name].kind == "primary"
    return name.endswith("_pkey")  # PostgreSQL's name for an unnamed primary key


def _adds_primary_key(node: ast.Node, table: str) -> bool:
    return (
        isinstance(node, ast.AlterTableStmt)
        and relation_name(node.relation) == table
        and any(
            cmd.subtype == AlterTableType.AT_AddConstraint
            and isinstance(cmd.def_, ast.Constraint)
            and cmd.def_.contype == ConstrType.CONSTR_PRIMARY
            for cmd in node.cmds or ()
        )
    )


def _primary_key_replaced(node: ast.AlterTableStmt, table: str, state: MigrationState) -> bool:
    """A new primary key comes in the same statement or later in the same transaction:
    replication never sees the table without one."""
    later, _closed = state.rest_of_transaction(node)
    return any(_adds_primary_key(other, table) for other in (node, *later))


def check(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    node = stmt.node
    assert isinstance(node, ast.AlterTableStmt)
    for table, display, cmd in existing_table_commands(
        node, state, AlterTableType.AT_ReplicaIdentity, AlterTableType.AT_DropConstraint
    ):
        if cmd.subtype == AlterTableType.AT_DropConstraint:
            if (
                cmd.name
                and _is_primary_key(table, cmd.name, state)
                and not _primary_key_replaced(node, table, state)
            ):
                yield Hit(
                    {
                        "table": display,
                        "change": f"Dropping primary key `{cmd.name}`",
                        "effect": "can no longer replicate UPDATE and DELETE on",
                    },
                    part=cmd,
                )
        elif isinstance(cmd.def_, ast.ReplicaIdentityStmt):
            change, effect = _IDENTITIES.get(cmd.def_.identity_type or "", ("", ""))
            if change:
                yield Hit({"table": display, "change": change, "effect": effect}, part=cmd)


CHECKS = [("ZD309", [AlterTableType.AT_ReplicaIdentity, AlterTableType.AT_DropConstraint], check)]
