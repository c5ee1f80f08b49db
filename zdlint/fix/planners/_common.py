"""Pieces the planners share: reading the statement, naming, the table's key."""

from __future__ import annotations

from pglast import ast

from zdlint.fix.plan import Unfixable
from zdlint.sql.identifiers import (  # noqa: F401 - the planners' names for them
    add_foreign_key_sql,
    foreign_key_name,
    relation_sql,
)
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState


def single_command(
    stmt: Statement, rule: str
) -> tuple[ast.AlterTableStmt, ast.AlterTableCmd] | Unfixable:
    """The one subcommand of an ALTER TABLE; several are not rewritten (split them first)."""
    node = stmt.node
    assert isinstance(node, ast.AlterTableStmt)
    cmds = node.cmds or ()
    if len(cmds) != 1:
        return Unfixable(
            rule, "the ALTER TABLE has several subcommands; split it into one statement each"
        )
    return node, cmds[0]


def single_new_column(
    stmt: Statement, rule: str
) -> tuple[ast.AlterTableStmt, ast.ColumnDef, list[ast.Constraint]] | Unfixable:
    """The column of an ALTER TABLE whose one subcommand is ADD COLUMN, with the
    constraints written on it."""
    found = single_command(stmt, rule)
    if isinstance(found, Unfixable):
        return found
    node, cmd = found
    column = cmd.def_
    assert isinstance(column, ast.ColumnDef)
    return node, column, [c for c in column.constraints or () if isinstance(c, ast.Constraint)]


def primary_key(state: MigrationState, table: str) -> str | None:
    """The single-column primary key of `table`, when the schema model knows it."""
    found = state.schema.tables.get(table)
    if found is None:
        return None
    for constraint in found.constraints.values():
        if constraint.kind == "primary" and len(constraint.columns) == 1:
            return constraint.columns[0]
    return None
