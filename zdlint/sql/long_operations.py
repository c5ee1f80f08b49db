"""Which statements read or rewrite a whole table, and so run for as long as it is big.

The timeout and transaction rules ask the same question: does this statement do work
proportional to a table's size (a scan, a rewrite, an index build, a bulk data change)?
Tables created earlier in the file are empty as far as the deploy is concerned and
never count, nor do tables TRUNCATEd earlier in the open transaction
(`MigrationState.is_empty`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pglast import ast
from pglast.enums import AlterTableType, ConstrType, ObjectType

from zdlint.sql.batching import is_batched, is_system_catalog
from zdlint.sql.locking import is_vacuum_full
from zdlint.sql.names import last_name, qualified_name, relation_name, walk
from zdlint.sql.type_changes import alter_type_rewrites

if TYPE_CHECKING:
    from zdlint.sql.state import MigrationState


# From PostgreSQL 12 a validated CHECK (col IS NOT NULL) lets SET NOT NULL skip its scan.
CHECK_SKIPS_NOT_NULL_SCAN_FROM = 12

_REWRITING_SUBCOMMANDS = {
    AlterTableType.AT_SetTableSpace: "SET TABLESPACE",
    AlterTableType.AT_SetLogged: "SET LOGGED",
    AlterTableType.AT_SetUnLogged: "SET UNLOGGED",
}
_VALIDATED_ON_ADD = {
    ConstrType.CONSTR_CHECK: "ADD CHECK",
    ConstrType.CONSTR_FOREIGN: "ADD FOREIGN KEY",
    ConstrType.CONSTR_NOTNULL: "ADD NOT NULL",
}
_INDEX_BUILDING = {
    ConstrType.CONSTR_PRIMARY: "ADD PRIMARY KEY",
    ConstrType.CONSTR_UNIQUE: "ADD UNIQUE",
    ConstrType.CONSTR_EXCLUSION: "ADD EXCLUDE",
}


@dataclass(frozen=True)
class LongOperation:
    """One table-sized piece of work a statement does."""

    what: str  # "CREATE INDEX", "VALIDATE CONSTRAINT", "UPDATE", …
    table: str  # the table read or rewritten, as matched (no schema)
    display: str  # as written, for messages
    data_change: bool = False  # a bulk UPDATE/DELETE/INSERT … SELECT


def is_stored_generated(column: ast.ColumnDef) -> bool:
    """A generated column whose values are written into every row (STORED). Without
    STORED it is virtual (PostgreSQL 18; older versions reject it: ZD207)."""
    return any(
        isinstance(c, ast.Constraint)
        and c.contype == ConstrType.CONSTR_GENERATED
        and c.generated_kind == "s"
        for c in column.constraints or ()
    )


def attach_scans_partition(partition: str, state: MigrationState) -> bool:
    """ATTACH PARTITION scans the partition unless a validated CHECK can prove its bound.

    Whether the CHECK really implies the bound is not checked: any validated CHECK on the
    partition earlier in the file counts as the recommended pre-step.
    """
    return not state.is_empty(partition) and not state.has_validated_check(partition)


def set_not_null_scans(table: str, column: str, state: MigrationState) -> bool:
    return state.pg_version < CHECK_SKIPS_NOT_NULL_SCAN_FROM or not (
        state.has_validated_not_null_check(table, column)
    )


def _alter_table(node: ast.AlterTableStmt, state: MigrationState) -> list[LongOperation]:
    if node.objtype != ObjectType.OBJECT_TABLE:
        return []
    table, display = relation_name(node.relation), qualified_name(node.relation)
    if state.is_empty(table):
        return []
    ops: list[LongOperation] = []

    def add(what: str) -> None:
        ops.append(LongOperation(what, table, display))

    for cmd in node.cmds or ():
        subtype, definition = cmd.subtype, cmd.def_
        if subtype == AlterTableType.AT_ValidateConstraint:
            add("VALIDATE CONSTRAINT")
        elif subtype == AlterTableType.AT_SetNotNull:
            if set_not_null_scans(table, cmd.name or "", state):
                add("SET NOT NULL")
        elif subtype == AlterTableType.AT_AlterColumnType and isinstance(definition, ast.ColumnDef):
            known = state.schema.column(table, cmd.name or "")
            old = known.type if known is not None else None
            name = cmd.name or ""
            if alter_type_rewrites(old, name, definition, state.timezone_utc, state.pg_version):
                add("ALTER COLUMN TYPE")
        elif subtype == AlterTableType.AT_AddColumn and isinstance(definition, ast.ColumnDef):
            if is_stored_generated(definition):
                add("ADD COLUMN … GENERATED ALWAYS AS … STORED")
        elif subtype in _REWRITING_SUBCOMMANDS:
            add(_REWRITING_SUBCOMMANDS[subtype])
        elif subtype == AlterTableType.AT_AddConstraint and isinstance(definition, ast.Constraint):
            kind = definition.contype
            if kind in _VALIDATED_ON_ADD and not definition.skip_validation:
                add(_VALIDATED_ON_ADD[kind])
            elif kind in _INDEX_BUILDING and not definition.indexname:
                add(_INDEX_BUILDING[kind])
        elif subtype == AlterTableType.AT_AttachPartition and isinstance(
            definition, ast.PartitionCmd
        ):
            partition = definition.name
            if attach_scans_partition(relation_name(partition), state):
                ops.append(
                    LongOperation(
                        "ATTACH PARTITION", relation_name(partition), qualified_name(partition)
                    )
                )
    return ops


def _data_change(node: ast.Node, state: MigrationState) -> list[LongOperation]:
    relation = getattr(node, "relation", None)
    table = relation_name(relation)
    if state.is_new_table(table) or is_system_catalog(relation, state.schema):
        return []
    if isinstance(node, (ast.UpdateStmt, ast.DeleteStmt)):
        if state.is_empty(table) or is_batched(node, state.schema):
            return []
        what = "UPDATE" if isinstance(node, ast.UpdateStmt) else "DELETE"
    else:
        assert isinstance(node, ast.InsertStmt)
        select = node.selectStmt
        if not isinstance(select, ast.SelectStmt) or not (select.fromClause or select.op):
            return []  # INSERT … VALUES
        what = "INSERT … SELECT"
    return [LongOperation(what, table, qualified_name(relation), data_change=True)]


def _relations(node: ast.Node) -> list[ast.RangeVar]:
    if isinstance(node, ast.VacuumStmt):
        return [r.relation for r in node.rels or () if r.relation is not None]
    relation = getattr(node, "relation", None)
    return [relation] if isinstance(relation, ast.RangeVar) else []


def _maintenance(node: ast.Node, state: MigrationState) -> list[LongOperation]:
    if isinstance(node, ast.IndexStmt):
        what = "CREATE INDEX CONCURRENTLY" if node.concurrent else "CREATE INDEX"
    elif isinstance(node, ast.VacuumStmt):
        if not node.is_vacuumcmd:
            return []  # ANALYZE samples; it does not read the whole table
        what = "VACUUM FULL" if is_vacuum_full(node) else "VACUUM"
    elif isinstance(node, ast.ClusterStmt):
        what = "CLUSTER"
    elif isinstance(node, ast.ReindexStmt):
        what = "REINDEX"
    elif isinstance(node, ast.RefreshMatViewStmt):
        what = "REFRESH MATERIALIZED VIEW"
    else:
        return []
    return [
        LongOperation(what, relation_name(r), qualified_name(r))
        for r in _relations(node)
        if not state.is_empty(relation_name(r))
    ]


def _alter_domain(node: ast.AlterDomainStmt, state: MigrationState) -> list[LongOperation]:
    domain = last_name(node.typeName)
    if domain in state.created_types:
        return []
    adds_checked = (
        node.subtype == "C"
        and isinstance(node.def_, ast.Constraint)
        and not node.def_.skip_validation
    )
    if adds_checked or node.subtype in ("O", "V"):  # ADD, SET NOT NULL, VALIDATE
        return [LongOperation("ALTER DOMAIN", domain, f"every table using domain {domain}")]
    return []


def long_operations(node: ast.Node | None, state: MigrationState) -> list[LongOperation]:
    """The table-sized work `node` does on tables that existed before this file."""
    if isinstance(node, ast.AlterTableStmt):
        return _alter_table(node, state)
    if isinstance(node, (ast.UpdateStmt, ast.DeleteStmt, ast.InsertStmt)):
        return _data_change(node, state)
    if isinstance(node, ast.AlterDomainStmt):
        return _alter_domain(node, state)
    if node is None:
        return []
    return _maintenance(node, state)


def work_under_lock(node: ast.Node | None, state: MigrationState) -> str | None:
    """What `node` does that keeps a lock the transaction already holds held for longer:
    table-sized work, a query on a table, a procedure or DO block, or, while a table
    with traffic is held, a wait for a lock on another one (see
    `MigrationState.carries_traffic`). None for instant and bookkeeping statements (SET,
    COMMIT, changes to new tables, more instant DDL on a table already locked)."""
    ops = long_operations(node, state)
    if ops:
        return f"{ops[0].what} on `{ops[0].display}`"
    if isinstance(node, ast.DoStmt):
        return "a DO block"
    if isinstance(node, ast.CallStmt):
        return "a CALL"
    query = node.query if isinstance(node, ast.CreateTableAsStmt) else node
    if isinstance(query, ast.SelectStmt) and any(
        isinstance(r, ast.RangeVar) and not state.is_empty(relation_name(r)) for r in walk(query)
    ):
        return "a query" if query is node else "a CREATE TABLE … AS query"
    waits = [t for t in state.lock_waits(node) if state.carries_traffic(node, t)]
    if waits and state.access_exclusive_traffic:
        return f"a wait for the lock on `{waits[0]}`"
    return None
