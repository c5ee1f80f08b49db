"""ZD107 / ZD108 / ZD109: attaching, detaching and indexing partitions."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ObjectType

from zdlint.findings import Hit
from zdlint.sql.checks._alter import existing_table_commands
from zdlint.sql.default_names import index_name
from zdlint.sql.long_operations import attach_scans_partition
from zdlint.sql.names import qualified_name, relation_name
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState
from zdlint.sql.statement_sql import parent_index_only


def _partition_commands(
    node: ast.AlterTableStmt, subtype: AlterTableType
) -> Iterator[ast.AlterTableCmd]:
    if node.objtype != ObjectType.OBJECT_TABLE:
        return
    for cmd in node.cmds or ():
        if cmd.subtype == subtype and isinstance(cmd.def_, ast.PartitionCmd):
            yield cmd


def attach_scan(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    node = stmt.node
    assert isinstance(node, ast.AlterTableStmt)
    for cmd in _partition_commands(node, AlterTableType.AT_AttachPartition):
        assert isinstance(cmd.def_, ast.PartitionCmd)
        partition = cmd.def_.name
        if attach_scans_partition(relation_name(partition), state):
            yield Hit(
                {"table": qualified_name(node.relation), "partition": qualified_name(partition)},
                part=cmd,
            )


def detach_blocking(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    node = stmt.node
    assert isinstance(node, ast.AlterTableStmt)
    for _table, display, cmd in existing_table_commands(
        node, state, AlterTableType.AT_DetachPartition
    ):
        if isinstance(cmd.def_, ast.PartitionCmd) and not cmd.def_.concurrent:
            yield Hit({"table": display, "partition": qualified_name(cmd.def_.name)}, part=cmd)


def concurrent_index_on_parent(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    """Rejected by PostgreSQL whether the table is new or not, so new tables count too."""
    node = stmt.node
    assert isinstance(node, ast.IndexStmt)
    if node.concurrent and state.is_partitioned(relation_name(node.relation)):
        yield Hit(
            {
                "table": qualified_name(node.relation),
                "index": index_name(node),
                "parent_only": parent_index_only(node),
            }
        )


CHECKS = [
    ("ZD107", [AlterTableType.AT_AttachPartition], attach_scan),
    ("ZD108", [AlterTableType.AT_DetachPartition], detach_blocking),
    ("ZD109", [ast.IndexStmt], concurrent_index_on_parent),
]
