"""Which tables a statement locks, and in which mode, so timeouts and lock bookkeeping
agree.

The modes are PostgreSQL's, statement by statement (the reference pages of each command,
ALTER TABLE's per subcommand); `tests/test_lock_model_pg.py` checks them against
pg_locks on a real server. What each mode blocks is `zdlint.locks`' business.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeGuard

from pglast import ast
from pglast.enums import AlterTableType, ConstrType, DropBehavior, ObjectType, ReindexObjectType

from zdlint.locks import lock_mode
from zdlint.sql.names import relation_name, strings
from zdlint.sql.options import boolean_option
from zdlint.sql.schema import SchemaModel

ACCESS_EXCLUSIVE = "AccessExclusiveLock"
ALL_INDEXES = "*"  # TableLock.index of a lock taken on every index of the table
SHARE_ROW_EXCLUSIVE = "ShareRowExclusiveLock"
SHARE_UPDATE_EXCLUSIVE = "ShareUpdateExclusiveLock"


@dataclass(frozen=True)
class TableLock:
    """One table lock a statement requests.

    A lock on an index (DROP INDEX, REINDEX, ALTER INDEX) names it in `index`; `table`
    is then the index's table when the schema model knows it, else None. Every query on
    a table locks all its indexes while it is planned, so a lock on an index holds up
    the table's traffic as a lock on the table would. The lock a statement also takes on
    the table itself is a TableLock of its own.
    """

    table: str | None
    mode: str
    index: str | None = None  # the index the lock is taken through; ALL_INDEXES: each one
    referenced: bool = False  # locked because a foreign key (added or dropped) references it

    @property
    def relation(self) -> str:
        """The name to match against tables: the table, else the index."""
        return self.table or self.index or ""


def statement_locks(node: ast.Node | None, schema: SchemaModel | None = None) -> list[TableLock]:
    """Every table lock `node` requests, strongest per relation, in statement order.

    DML is left out: its locks (ROW EXCLUSIVE and weaker) never block other traffic.
    `schema` resolves an index to its table.
    """
    handler = _HANDLERS.get(type(node))
    if handler is None:
        return []
    strongest: dict[tuple[str, str | None], TableLock] = {}
    for lock in handler(node, schema or _NO_SCHEMA):
        key = (lock.relation, lock.index)
        held = strongest.get(key)
        if lock.relation and (
            held is None or lock_mode(held.mode).strength < lock_mode(lock.mode).strength
        ):
            strongest[key] = lock
    return list(strongest.values())


_NO_SCHEMA = SchemaModel()


def ddl_tables(node: ast.Node | None) -> list[str]:
    """Tables (or, when their table is not known, indexes) whose lock this statement must
    wait for: DDL, not DML."""
    return list(dict.fromkeys(lock.relation for lock in statement_locks(node)))


# --- ALTER TABLE ----------------------------------------------------------------------

# ALTER TABLE takes ACCESS EXCLUSIVE unless its reference page says otherwise: these.
_COMMAND_LOCKS: dict[AlterTableType | None, str] = {
    # "affect general strategies for performance and maintenance", not what reads see
    AlterTableType.AT_SetStatistics: SHARE_UPDATE_EXCLUSIVE,
    AlterTableType.AT_SetOptions: SHARE_UPDATE_EXCLUSIVE,  # ALTER COLUMN SET (n_distinct …)
    AlterTableType.AT_ResetOptions: SHARE_UPDATE_EXCLUSIVE,
    AlterTableType.AT_ClusterOn: SHARE_UPDATE_EXCLUSIVE,
    AlterTableType.AT_DropCluster: SHARE_UPDATE_EXCLUSIVE,
    AlterTableType.AT_ValidateConstraint: SHARE_UPDATE_EXCLUSIVE,
    # on the parent, since PostgreSQL 12; the partition gets ACCESS EXCLUSIVE
    AlterTableType.AT_AttachPartition: SHARE_UPDATE_EXCLUSIVE,
    AlterTableType.AT_DetachPartitionFinalize: SHARE_UPDATE_EXCLUSIVE,
    # triggers only fire on writes
    AlterTableType.AT_EnableTrig: SHARE_ROW_EXCLUSIVE,
    AlterTableType.AT_EnableAlwaysTrig: SHARE_ROW_EXCLUSIVE,
    AlterTableType.AT_EnableReplicaTrig: SHARE_ROW_EXCLUSIVE,
    AlterTableType.AT_EnableTrigAll: SHARE_ROW_EXCLUSIVE,
    AlterTableType.AT_EnableTrigUser: SHARE_ROW_EXCLUSIVE,
    AlterTableType.AT_DisableTrig: SHARE_ROW_EXCLUSIVE,
    AlterTableType.AT_DisableTrigAll: SHARE_ROW_EXCLUSIVE,
    AlterTableType.AT_DisableTrigUser: SHARE_ROW_EXCLUSIVE,
}

# Storage parameters that change what queries see take ACCESS EXCLUSIVE; every other
# one (fillfactor, autovacuum_*, toast_tuple_target, parallel_workers, …) SHARE UPDATE
# EXCLUSIVE. A SET of several takes the strongest.
_ACCESS_EXCLUSIVE_OPTIONS = {
    "user_catalog_table",  # tables
    "security_barrier",  # views
    "security_invoker",
    "check_option",
    "buffering",  # GiST indexes
}


def alter_table_command_lock(cmd: ast.AlterTableCmd) -> str:
    """The lock mode one ALTER TABLE subcommand takes on its table."""
    if cmd.subtype in (AlterTableType.AT_SetRelOptions, AlterTableType.AT_ResetRelOptions):
        options = {d.defname for d in cmd.def_ or () if isinstance(d, ast.DefElem)}
        return ACCESS_EXCLUSIVE if options & _ACCESS_EXCLUSIVE_OPTIONS else SHARE_UPDATE_EXCLUSIVE
    if cmd.subtype == AlterTableType.AT_DetachPartition and _concurrent_partition_cmd(cmd):
        return SHARE_UPDATE_EXCLUSIVE
    if (
        cmd.subtype == AlterTableType.AT_AddConstraint
        and isinstance(cmd.def_, ast.Constraint)
        and cmd.def_.contype == ConstrType.CONSTR_FOREIGN
    ):
        return SHARE_ROW_EXCLUSIVE  # validated or NOT VALID: it adds triggers to both
    return _COMMAND_LOCKS.get(cmd.subtype, ACCESS_EXCLUSIVE)


def _alter_table(node: ast.AlterTableStmt, schema: SchemaModel) -> list[TableLock]:
    locks = []
    modes = [alter_table_command_lock(cmd) for cmd in node.cmds or ()]
    if modes:
        mode = max(modes, key=lambda m: lock_mode(m).strength)
        name = relation_name(node.relation)
        if node.objtype == ObjectType.OBJECT_INDEX:
            locks.append(_through_index(name, mode, schema))
        else:
            locks.append(TableLock(name, mode))
    table = relation_name(node.relation)
    for partition in _partitions(node):
        locks.append(TableLock(partition, ACCESS_EXCLUSIVE))
    for cmd in node.cmds or ():
        if cmd.subtype in (AlterTableType.AT_AddInherit, AlterTableType.AT_DropInherit):
            locks.append(TableLock(relation_name(cmd.def_), SHARE_UPDATE_EXCLUSIVE))
        elif cmd.subtype == AlterTableType.AT_DropConstraint and cmd.name:
            # a foreign key's triggers on the referenced table go with it
            locks += _foreign_key_targets(schema, table, {cmd.name})
    locks += _referenced(new_foreign_keys(node), table)
    return locks


def _foreign_key_targets(
    schema: SchemaModel, table: str, names: set[str] | None = None
) -> list[TableLock]:
    """ACCESS EXCLUSIVE on the tables that `table`'s foreign keys (those in `names`, or
    all) reference: dropping a foreign key drops its triggers there."""
    found = schema.tables.get(table)
    return [
        TableLock(con.references, ACCESS_EXCLUSIVE, referenced=True)
        for con in (found.constraints.values() if found else ())
        if con.references and con.references != table and (names is None or con.name in names)
    ]


def _referencing(schema: SchemaModel, table: str) -> list[TableLock]:
    """ACCESS EXCLUSIVE on the tables whose foreign keys reference `table`: DROP TABLE …
    CASCADE drops those keys."""
    return [
        TableLock(other.name, ACCESS_EXCLUSIVE)
        for other in schema.tables.values()
        if other.name != table and any(c.references == table for c in other.constraints.values())
    ]


def new_foreign_keys(node: ast.Node | None) -> list[tuple[ast.Constraint, str]]:
    """(constraint, column) for each foreign key a CREATE TABLE or ALTER TABLE adds; the
    column is the one an inline `REFERENCES` is written on ("" for a table constraint)."""
    found: list[tuple[ast.Constraint, str]] = []
    if isinstance(node, ast.CreateStmt):
        for element in node.tableElts or ():
            if isinstance(element, ast.Constraint):
                found.append((element, ""))
            elif isinstance(element, ast.ColumnDef):
                found += _column_constraints(element)
    elif isinstance(node, ast.AlterTableStmt):
        for cmd in node.cmds or ():
            found += command_foreign_keys(cmd)
    return [(c, column) for c, column in found if _is_foreign_key(c)]


def command_foreign_keys(cmd: ast.AlterTableCmd) -> list[tuple[ast.Constraint, str]]:
    """(constraint, column) for each foreign key one ALTER TABLE subcommand adds: ADD
    CONSTRAINT, or ADD COLUMN … REFERENCES."""
    if cmd.subtype == AlterTableType.AT_AddConstraint and _is_foreign_key(cmd.def_):
        return [(cmd.def_, "")]
    if cmd.subtype == AlterTableType.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef):
        return [(c, column) for c, column in _column_constraints(cmd.def_) if _is_foreign_key(c)]
    return []


def _column_constraints(column: ast.ColumnDef) -> list[tuple[ast.Constraint, str]]:
    name = column.colname or ""
    return [(c, name) for c in column.constraints or () if isinstance(c, ast.Constraint)]


def _is_foreign_key(con: object) -> TypeGuard[ast.Constraint]:
    return (
        isinstance(con, ast.Constraint)
        and con.contype == ConstrType.CONSTR_FOREIGN
        and con.pktable is not None
    )


def _referenced(constraints: list[tuple[ast.Constraint, str]], table: str) -> list[TableLock]:
    """A new foreign key adds triggers to the table it references: SHARE ROW EXCLUSIVE."""
    return [
        TableLock(relation_name(c.pktable), SHARE_ROW_EXCLUSIVE, referenced=True)
        for c, _column in constraints
        if relation_name(c.pktable) != table
    ]


def _partitions(node: ast.AlterTableStmt) -> list[str]:
    """Partitions ATTACH or DETACH (without CONCURRENTLY) take ACCESS EXCLUSIVE on."""
    return [
        relation_name(cmd.def_.name)
        for cmd in node.cmds or ()
        if cmd.subtype in (AlterTableType.AT_AttachPartition, AlterTableType.AT_DetachPartition)
        and node.objtype == ObjectType.OBJECT_TABLE
        and isinstance(cmd.def_, ast.PartitionCmd)
        and cmd.def_.name is not None
        and not cmd.def_.concurrent
    ]


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


# --- other statements ------------------------------------------------------------------


def _through_index(index: str, mode: str, schema: SchemaModel) -> TableLock:
    known = schema.indexes.get(index)
    return TableLock(known.table if known else None, mode, index=index)


def _create_table(node: ast.CreateStmt, schema: SchemaModel) -> list[TableLock]:
    table = relation_name(node.relation)
    locks = _referenced(new_foreign_keys(node), table)
    for parent in node.inhRelations or ():
        if isinstance(parent, ast.RangeVar):
            # PARTITION OF changes what queries on the parent see; INHERITS does not
            mode = ACCESS_EXCLUSIVE if node.partbound is not None else SHARE_UPDATE_EXCLUSIVE
            locks.append(TableLock(relation_name(parent), mode))
    return locks


def _create_index(node: ast.IndexStmt, schema: SchemaModel) -> list[TableLock]:
    mode = SHARE_UPDATE_EXCLUSIVE if node.concurrent else "ShareLock"
    return [TableLock(relation_name(node.relation), mode)]


def _create_trigger(node: ast.CreateTrigStmt, schema: SchemaModel) -> list[TableLock]:
    return [TableLock(relation_name(node.relation), SHARE_ROW_EXCLUSIVE)]


def _create_rule(node: ast.RuleStmt, schema: SchemaModel) -> list[TableLock]:
    return [TableLock(relation_name(node.relation), ACCESS_EXCLUSIVE)]


def _rename(node: ast.RenameStmt, schema: SchemaModel) -> list[TableLock]:
    if node.relation is None:
        return []
    name = relation_name(node.relation)
    if node.renameType == ObjectType.OBJECT_INDEX:  # since PostgreSQL 12
        return [_through_index(name, SHARE_UPDATE_EXCLUSIVE, schema)]
    return [TableLock(name, ACCESS_EXCLUSIVE)]


_DROPPED_RELATIONS = {
    ObjectType.OBJECT_TABLE,
    ObjectType.OBJECT_VIEW,
    ObjectType.OBJECT_MATVIEW,
    ObjectType.OBJECT_SEQUENCE,
    ObjectType.OBJECT_FOREIGN_TABLE,
}
# `DROP TRIGGER t ON tbl` and the like: the name list ends with the table, then the object.
_DROPPED_FROM_TABLE = {ObjectType.OBJECT_TRIGGER, ObjectType.OBJECT_RULE, ObjectType.OBJECT_POLICY}


def _drop(node: ast.DropStmt, schema: SchemaModel) -> list[TableLock]:
    names = [strings(obj) for obj in node.objects or () if isinstance(obj, tuple)]
    if node.removeType in _DROPPED_RELATIONS:
        locks = []
        for table in (n[-1] for n in names if n):
            locks.append(TableLock(table, ACCESS_EXCLUSIVE))
            locks += _foreign_key_targets(schema, table)
            if node.behavior == DropBehavior.DROP_CASCADE:
                locks += _referencing(schema, table)
        return locks
    if node.removeType == ObjectType.OBJECT_INDEX:
        mode = SHARE_UPDATE_EXCLUSIVE if node.concurrent else ACCESS_EXCLUSIVE
        return [lock for n in names if n for lock in _index_and_table(n[-1], mode, mode, schema)]
    if node.removeType in _DROPPED_FROM_TABLE:
        return [TableLock(n[-2], ACCESS_EXCLUSIVE) for n in names if len(n) >= 2]
    return []


def _truncate(node: ast.TruncateStmt, schema: SchemaModel) -> list[TableLock]:
    return [TableLock(relation_name(r), ACCESS_EXCLUSIVE) for r in node.relations or ()]


def _reindex(node: ast.ReindexStmt, schema: SchemaModel) -> list[TableLock]:
    """REINDEX takes SHARE on the table and ACCESS EXCLUSIVE on each index it rebuilds
    (SHARE UPDATE EXCLUSIVE on both when CONCURRENTLY)."""
    if node.relation is None:
        return []
    name = relation_name(node.relation)
    concurrent = is_concurrent_reindex(node)
    table_mode = SHARE_UPDATE_EXCLUSIVE if concurrent else "ShareLock"
    index_mode = SHARE_UPDATE_EXCLUSIVE if concurrent else ACCESS_EXCLUSIVE
    if node.kind == ReindexObjectType.REINDEX_OBJECT_INDEX:
        return _index_and_table(name, table_mode, index_mode, schema)
    return [TableLock(name, table_mode), TableLock(name, index_mode, index=ALL_INDEXES)]


def _index_and_table(
    index: str, table_mode: str, index_mode: str, schema: SchemaModel
) -> list[TableLock]:
    """A lock on an index and one on its table, when the schema says which it is."""
    through = _through_index(index, index_mode, schema)
    if through.table is None:
        return [through]
    return [TableLock(through.table, table_mode), through]


def _cluster(node: ast.ClusterStmt, schema: SchemaModel) -> list[TableLock]:
    return (
        [] if node.relation is None else [TableLock(relation_name(node.relation), ACCESS_EXCLUSIVE)]
    )


def _vacuum(node: ast.VacuumStmt, schema: SchemaModel) -> list[TableLock]:
    mode = ACCESS_EXCLUSIVE if is_vacuum_full(node) else SHARE_UPDATE_EXCLUSIVE
    return [
        TableLock(relation_name(r.relation), mode)
        for r in node.rels or ()
        if isinstance(r, ast.VacuumRelation) and r.relation is not None
    ]


def _refresh(node: ast.RefreshMatViewStmt, schema: SchemaModel) -> list[TableLock]:
    mode = "ExclusiveLock" if node.concurrent else ACCESS_EXCLUSIVE
    return [TableLock(relation_name(node.relation), mode)]


def _lock(node: ast.LockStmt, schema: SchemaModel) -> list[TableLock]:
    if not node.mode:
        return []
    mode = _LOCK_STMT_MODES[node.mode - 1]
    return [TableLock(relation_name(r), mode) for r in node.relations or ()]


def _policy(
    node: ast.CreatePolicyStmt | ast.AlterPolicyStmt, schema: SchemaModel
) -> list[TableLock]:
    return [TableLock(relation_name(node.table), ACCESS_EXCLUSIVE)]


_HANDLERS: dict[type, Callable[[Any, SchemaModel], list[TableLock]]] = {
    ast.AlterTableStmt: _alter_table,
    ast.CreateStmt: _create_table,
    ast.IndexStmt: _create_index,
    ast.CreateTrigStmt: _create_trigger,
    ast.RuleStmt: _create_rule,
    ast.CreatePolicyStmt: _policy,
    ast.AlterPolicyStmt: _policy,
    ast.RenameStmt: _rename,
    ast.DropStmt: _drop,
    ast.TruncateStmt: _truncate,
    ast.ReindexStmt: _reindex,
    ast.ClusterStmt: _cluster,
    ast.VacuumStmt: _vacuum,
    ast.RefreshMatViewStmt: _refresh,
    ast.LockStmt: _lock,
}


# The statements that lock tables by name, for the checks that register on them.
LOCKING_STATEMENTS: tuple[type, ...] = tuple(_HANDLERS)


def is_concurrent_reindex(node: ast.ReindexStmt) -> bool:
    """`REINDEX (CONCURRENTLY)` / `REINDEX … CONCURRENTLY`; `(CONCURRENTLY false)` is not."""
    return boolean_option(node.params, "concurrently") is True


# `LOCK TABLE … IN <mode> MODE`: pglast's LockStmt.mode is the lock level, 1..8.
_LOCK_STMT_MODES = (
    "AccessShareLock",
    "RowShareLock",
    "RowExclusiveLock",
    SHARE_UPDATE_EXCLUSIVE,
    "ShareLock",
    SHARE_ROW_EXCLUSIVE,
    "ExclusiveLock",
    ACCESS_EXCLUSIVE,
)


def access_exclusive_tables(node: ast.Node | None, schema: SchemaModel | None = None) -> list[str]:
    """Tables (views, materialized views) this statement locks in ACCESS EXCLUSIVE mode.

    Sequences are left out, and so are the locks on indexes themselves. With the schema
    model, the tables a statement locks without naming them are in: a DROP INDEX's table,
    a dropped foreign key's referenced table, the tables that reference a dropped table.
    """
    return access_exclusive_of(node, statement_locks(node, schema))


def access_exclusive_of(node: ast.Node | None, locks: list[TableLock]) -> list[str]:
    """`access_exclusive_tables` from the statement's locks already worked out."""
    if isinstance(node, ast.DropStmt) and node.removeType == ObjectType.OBJECT_SEQUENCE:
        return []
    return [
        lock.table
        for lock in locks
        if lock.mode == ACCESS_EXCLUSIVE and lock.index is None and lock.table
    ]


def is_vacuum_full(node: ast.VacuumStmt) -> bool:
    """`VACUUM FULL` / `VACUUM (FULL)`; `VACUUM (FULL false)` is a plain VACUUM."""
    return bool(node.is_vacuumcmd) and boolean_option(node.options, "full") is True
