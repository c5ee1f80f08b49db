"""ZD207: a statement uses SQL that the target PostgreSQL version does not have: it fails."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType

from zdlint.findings import Hit
from zdlint.sql.locking import is_concurrent_reindex
from zdlint.sql.names import relation_name
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState
from zdlint.versions import (
    DETACH_CONCURRENTLY,
    DETACH_FINALIZE,
    NOT_NULL_TABLE_CONSTRAINT,
    NOT_VALID_FOREIGN_KEY_ON_PARTITIONED_TABLE,
    REINDEX_CONCURRENTLY,
    STORED_GENERATED_COLUMN,
    VIRTUAL_GENERATED_COLUMN,
    Feature,
)


def features_used(node: ast.Node | None, state: MigrationState) -> Iterator[Feature]:
    """The version-gated features (zdlint.versions.FEATURES) a statement uses."""
    if isinstance(node, ast.ReindexStmt) and is_concurrent_reindex(node):
        yield REINDEX_CONCURRENTLY
    if isinstance(node, ast.AlterTableStmt):
        for cmd in node.cmds or ():
            if cmd.subtype == AlterTableType.AT_DetachPartitionFinalize:
                yield DETACH_FINALIZE
            elif cmd.subtype == AlterTableType.AT_DetachPartition:
                if isinstance(cmd.def_, ast.PartitionCmd) and cmd.def_.concurrent:
                    yield DETACH_CONCURRENTLY
            elif cmd.subtype == AlterTableType.AT_AddConstraint:
                yield from _table_constraint(cmd.def_)
                if is_not_valid_foreign_key(cmd.def_) and state.is_partitioned(
                    relation_name(node.relation)
                ):
                    yield NOT_VALID_FOREIGN_KEY_ON_PARTITIONED_TABLE
            elif cmd.subtype == AlterTableType.AT_AddColumn:
                yield from _column(cmd.def_)
    if isinstance(node, ast.CreateStmt):
        for element in node.tableElts or ():
            yield from _column(element)
            yield from _table_constraint(element)


def _column(column: object) -> Iterator[Feature]:
    if not isinstance(column, ast.ColumnDef):
        return
    for con in column.constraints or ():
        if isinstance(con, ast.Constraint) and con.contype == ConstrType.CONSTR_GENERATED:
            yield STORED_GENERATED_COLUMN if con.generated_kind == "s" else VIRTUAL_GENERATED_COLUMN


def is_not_valid_foreign_key(con: object) -> bool:
    return (
        isinstance(con, ast.Constraint)
        and con.contype == ConstrType.CONSTR_FOREIGN
        and bool(con.skip_validation)
    )


def _table_constraint(con: object) -> Iterator[Feature]:
    if isinstance(con, ast.Constraint) and con.contype == ConstrType.CONSTR_NOTNULL:
        yield NOT_NULL_TABLE_CONSTRAINT


def check(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    for feature in features_used(stmt.node, state):
        if state.pg_version < feature.since:
            yield Hit(
                {
                    "feature": feature.name,
                    "since": str(feature.since),
                    "version": str(state.pg_version),
                    "instead": feature.instead,
                }
            )


CHECKS = [
    (
        "ZD207",
        [
            ast.ReindexStmt,
            ast.CreateStmt,
            AlterTableType.AT_DetachPartition,
            AlterTableType.AT_DetachPartitionFinalize,
            AlterTableType.AT_AddConstraint,
            AlterTableType.AT_AddColumn,
        ],
        check,
    )
]
