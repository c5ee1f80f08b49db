"""ZD104 / ZD105: CHECK and FOREIGN KEY constraints validated while the lock is held
(ZD104 also for a CHECK written on a new column)."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType

from zdlint.findings import Hit
from zdlint.locks import lock_mode
from zdlint.sql.checks._alter import (
    column_constraints,
    new_column_constraints,
    sized_table_commands,
)
from zdlint.sql.default_names import constraint_name
from zdlint.sql.identifiers import add_foreign_key_sql, foreign_key_name, quote_ident, relation_sql
from zdlint.sql.locking import SHARE_ROW_EXCLUSIVE, alter_table_command_lock, command_foreign_keys
from zdlint.sql.names import qualified_name, relation_name, strings
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState
from zdlint.sql.statement_sql import deparse
from zdlint.versions import NOT_VALID_FOREIGN_KEY_ON_PARTITIONED_TABLE


def _validated_constraints(
    stmt: Statement, state: MigrationState, contype: ConstrType
) -> Iterator[tuple[str, ast.Constraint, ast.AlterTableCmd]]:
    assert isinstance(stmt.node, ast.AlterTableStmt)
    for _table, display, cmd in sized_table_commands(
        stmt.node, state, AlterTableType.AT_AddConstraint
    ):
        con = cmd.def_
        if isinstance(con, ast.Constraint) and con.contype == contype and not con.skip_validation:
            yield display, con, cmd


def check_constraint(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    node = stmt.node
    assert isinstance(node, ast.AlterTableStmt)
    for display, con, cmd in _validated_constraints(stmt, state, ConstrType.CONSTR_CHECK):
        name = con.conname or constraint_name(relation_name(node.relation), con)
        yield Hit({"table": display, "constraint": name, "add": "Add it NOT VALID"}, part=cmd)
    # A CHECK written on a new column is checked against every row too, even when the
    # column is NULL everywhere (measured: `ADD COLUMN c int CHECK (c > 0)` scans).
    for display, cmd, column, con in new_column_constraints(node, state, ConstrType.CONSTR_CHECK):
        name = con.conname or constraint_name(relation_name(node.relation), con, column)
        expression = deparse(con.raw_expr) if con.raw_expr is not None else ""
        add = (
            f"Add the column {column} without the CHECK, then the CHECK NOT VALID with "
            f"`ALTER TABLE {relation_sql(node.relation)} ADD CONSTRAINT {quote_ident(name)} "
            f"CHECK ({expression}) NOT VALID;`"
        )
        yield Hit({"table": display, "constraint": name, "add": add}, part=cmd)


def foreign_key(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    """A validated foreign key added to an existing table, inline `ADD COLUMN … DEFAULT …
    REFERENCES` included: the table is scanned under the lock of its subcommand (ACCESS
    EXCLUSIVE for ADD COLUMN), the referenced table holds SHARE ROW EXCLUSIVE."""
    assert isinstance(stmt.node, ast.AlterTableStmt)
    for table, display, cmd in sized_table_commands(
        stmt.node, state, AlterTableType.AT_AddConstraint, AlterTableType.AT_AddColumn
    ):
        for con, column in command_foreign_keys(cmd):
            if con.skip_validation or (column and not _has_default(cmd.def_)):
                # a new column without a default is all NULL: PostgreSQL skips the check
                continue
            columns = strings(con.fk_attrs) or [column]
            name = foreign_key_name(table, con, column)
            yield Hit(
                {
                    "table": display,
                    "constraint": name,
                    "referenced": qualified_name(con.pktable),
                    "referenced_lock": lock_mode(SHARE_ROW_EXCLUSIVE).sql_name,
                    "instead": _foreign_key_advice(
                        stmt.node, display, name, columns, con, column, state
                    ),
                },
                lock=alter_table_command_lock(cmd),
                part=cmd,
            )


def _has_default(column: object) -> bool:
    return isinstance(column, ast.ColumnDef) and any(
        c.contype in (ConstrType.CONSTR_DEFAULT, ConstrType.CONSTR_GENERATED)
        for c in column_constraints(column)
    )


def _foreign_key_advice(
    node: ast.AlterTableStmt,
    display: str,
    name: str,
    columns: list[str],
    con: ast.Constraint,
    column: str,
    state: MigrationState,
) -> str:
    """ZD105's help: NOT VALID then VALIDATE, where the target version allows NOT VALID."""
    gate = NOT_VALID_FOREIGN_KEY_ON_PARTITIONED_TABLE
    if state.pg_version < gate.since and state.is_partitioned(relation_name(node.relation)):
        return (
            f"{display} is partitioned, and before PostgreSQL {gate.since} it refuses NOT VALID "
            f"foreign keys: {gate.instead}"
        )
    first = f"add the column {column} without REFERENCES, then " if column else ""
    add = add_foreign_key_sql(node.relation, name, columns, con) + " NOT VALID;"
    validate = f"ALTER TABLE {relation_sql(node.relation)} VALIDATE CONSTRAINT {quote_ident(name)};"
    return (
        f"Instead, {first}add the foreign key NOT VALID with `{add}`, then run `{validate}` "
        "in a separate transaction"
    )


CHECKS = [
    ("ZD104", [AlterTableType.AT_AddConstraint, AlterTableType.AT_AddColumn], check_constraint),
    ("ZD105", [AlterTableType.AT_AddConstraint, AlterTableType.AT_AddColumn], foreign_key),
]
