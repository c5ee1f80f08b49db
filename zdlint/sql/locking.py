"""Which tables a DDL statement locks, so timeouts and lock bookkeeping agree."""

from __future__ import annotations

from pglast import ast
from pglast.enums import AlterTableType, ConstrType, ObjectType

from zdlint.locks import lock_mode
from zdlint.sql.names import last_name, relation_name
from zdlint.sql.options import boolean_option

_DROPPABLE_RELATIONS = {
    ObjectType.OBJECT_TABLE,
    ObjectType.OBJECT_INDEX,
    ObjectType.OBJECT_VIEW,
    ObjectType.OBJECT_MATVIEW,
    ObjectType.OBJECT_SEQUENCE,
}


def ddl_tables(node: ast.Node | None) -> list[str]:
    """Tables (or indexes) whose lock this statement must wait for: DDL, not DML.

    A DDL statement queued behind a long reader blocks every later query on the table,
    which is why such statements need a lock_timeout.
    """
    if isinstance(node, ast.AlterTableStmt):
        return [relation_name(node.relation), *attached_partitions(node)]
    if isinstance(node, ast.IndexStmt):
        return [relation_name(node.relation)]
    if isinstance(node, (ast.CreateTrigStmt, ast.RuleStmt)):
        return [relation_name(node.relation)]
    if isinstance(node, ast.RenameStmt) and node.relation is not None:
        return [relation_name(node.relation)]
    if isinstance(node, ast.DropStmt) and node.removeType in _DROPPABLE_RELATIONS:
        return [last_name(obj) for obj in node.objects or () if isinstance(obj, tuple)]
    if isinstance(node, ast.TruncateStmt):
        return [relation_name(r) for r in node.relations or ()]
    if isinstance(node, (ast.ReindexStmt, ast.ClusterStmt)) and node.relation is not None:
        return [relation_name(node.relation)]
    if isinstance(node, ast.RefreshMatViewStmt):
        return [relation_name(node.relation)]
    if isinstance(node, ast.LockStmt):
        return [relation_name(r) for r in node.relations or ()]
    return []


# ALTER TABLE subcommands that take less than ACCESS EXCLUSIVE (PostgreSQL docs).
_SHARE_UPDATE_EXCLUSIVE_SUBCOMMANDS = {
    AlterTableType.AT_ValidateConstraint,
    AlterTableType.AT_SetStatistics,
    AlterTableType.AT_ClusterOn,
    AlterTableType.AT_DropCluster,
    AlterTableType.AT_SetRelOptions,
    AlterTableType.AT_ResetRelOptions,
    AlterTableType.AT_DetachPartitionFinalize,
}


def alter_table_command_lock(cmd: ast.AlterTableCmd) -> str:
    """The lock mode one ALTER TABLE subcommand takes on its table."""
    if cmd.subtype in _SHARE_UPDATE_EXCLUSIVE_SUBCOMMANDS:
        return "ShareUpdateExclusiveLock"
    if cmd.subtype == AlterTableType.AT_DetachPartition and _concurrent_partition_cmd(cmd):
        return "ShareUpdateExclusiveLock"
    if cmd.subtype == AlterTableType.AT_AttachPartition:
        # since PostgreSQL 12; the partition being attached gets ACCESS EXCLUSIVE
        # (see attached_partitions)
        return "ShareUpdateExclusiveLock"
    if (
        cmd.subtype == AlterTableType.AT_AddConstraint
        and isinstance(cmd.def_, ast.Constraint)
        and cmd.def_.contype == ConstrType.CONSTR_FOREIGN
    ):
        return "ShareRowExclusiveLock"
    return "AccessExclusiveLock"


def attached_partitions(node: ast.AlterTableStmt) -> list[str]:
    """Tables ATTACH PARTITION takes ACCESS EXCLUSIVE on (the parent gets less)."""
    return [
        relation_name(cmd.def_.name)
        for cmd in node.cmds or ()
        if cmd.subtype == AlterTableType.AT_AttachPartition
        and isinstance(cmd.def_, ast.PartitionCmd)
        and cmd.def_.name is not None
    ]


def _concurrent_partition_cmd(cmd: ast.AlterTableCmd) -> bool:
    return isinstance(cmd.def_, ast.PartitionCmd) and bool(cmd.def_.concurrent)


def statement_lock(node: ast.Node | None) -> str | None:
    """The strongest lock a DDL statement takes on the tables `ddl_tables` names."""
    if isinstance(node, ast.AlterTableStmt):
        modes = [alter_table_command_lock(cmd) for cmd in node.cmds or ()]
        return max(modes, key=lambda m: lock_mode(m).strength) if modes else None
    if isinstance(node, ast.IndexStmt):
        return "ShareUpdateExclusiveLock" if node.concurrent else "ShareLock"
    if isinstance(node, ast.CreateTrigStmt):
        return "ShareRowExclusiveLock"
    if isinstance(node, ast.DropStmt) and node.concurrent:
        return "ShareUpdateExclusiveLock"
    if isinstance(node, ast.ReindexStmt) and is_concurrent_reindex(node):
        return "ShareUpdateExclusiveLock"
    if isinstance(node, ast.RefreshMatViewStmt) and node.concurrent:
        return "ExclusiveLock"
    if isinstance(node, ast.LockStmt) and node.mode:
        return _LOCK_STMT_MODES[node.mode - 1]
    if ddl_tables(node):
        return "AccessExclusiveLock"
    return None


def is_concurrent_reindex(node: ast.ReindexStmt) -> bool:
    """`REINDEX (CONCURRENTLY)` / `REINDEX … CONCURRENTLY`; `(CONCURRENTLY false)` is not."""
    return boolean_option(node.params, "concurrently") is True


# `LOCK TABLE … IN <mode> MODE`: pglast's LockStmt.mode is the lock level, 1..8.
_LOCK_STMT_MODES = (
    "AccessShareLock",
    "RowShareLock",
    "RowExclusiveLock",
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
)

_ACCESS_EXCLUSIVE_DROPS = {
    ObjectType.OBJECT_TABLE,
    ObjectType.OBJECT_VIEW,
    ObjectType.OBJECT_MATVIEW,
}


def access_exclusive_tables(node: ast.Node | None) -> list[str]:
    """Tables (views, materialized views) this statement locks in ACCESS EXCLUSIVE mode.

    Index names are left out: DROP INDEX and REINDEX lock the index's table, whose name
    the statement does not say (REINDEX takes only SHARE on it).
    """
    if isinstance(node, ast.DropStmt):
        if node.concurrent or node.removeType not in _ACCESS_EXCLUSIVE_DROPS:
            return []
    elif isinstance(node, ast.ReindexStmt):
        return []
    elif isinstance(node, ast.VacuumStmt):
        if not is_vacuum_full(node):
            return []
        return [relation_name(r.relation) for r in node.rels or () if r.relation is not None]
    if isinstance(node, ast.AlterTableStmt) and statement_lock(node) != "AccessExclusiveLock":
        return attached_partitions(node)
    if statement_lock(node) != "AccessExclusiveLock":
        return []
    return ddl_tables(node)


def is_vacuum_full(node: ast.VacuumStmt) -> bool:
    """`VACUUM FULL` / `VACUUM (FULL)`; `VACUUM (FULL false)` is a plain VACUUM."""
    return bool(node.is_vacuumcmd) and boolean_option(node.options, "full") is True
