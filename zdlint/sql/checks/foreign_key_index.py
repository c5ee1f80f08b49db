"""ZD150: a foreign key whose referencing columns no index leads with (advisory)."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType

from zdlint.findings import Hit
from zdlint.sql.identifiers import quote_ident
from zdlint.sql.locking import command_foreign_keys, new_foreign_keys
from zdlint.sql.names import qualified_name, relation_name, strings
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState


def _foreign_keys(
    node: ast.CreateStmt | ast.AlterTableStmt,
) -> Iterator[tuple[ast.Constraint, str, ast.AlterTableCmd | None]]:
    """(constraint, column of an inline REFERENCES, ALTER TABLE subcommand) per foreign key."""
    if isinstance(node, ast.CreateStmt):
        for con, column in new_foreign_keys(node):
            yield con, column, None
        return
    for cmd in node.cmds or ():
        for con, column in command_foreign_keys(cmd):
            yield con, column, cmd


def check(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    node = stmt.node
    assert isinstance(node, (ast.CreateStmt, ast.AlterTableStmt))
    relation = node.relation
    for con, column, cmd in _foreign_keys(node):
        columns = tuple(strings(con.fk_attrs)) or ((column,) if column else ())
        if not columns or state.has_index_for(relation_name(relation), columns):
            continue
        yield Hit(
            {
                "table": qualified_name(relation),
                "columns": ", ".join(columns),
                "columns_sql": ", ".join(quote_ident(c) for c in columns),
                "referenced": qualified_name(con.pktable),
            },
            part=cmd,
        )


CHECKS = [
    ("ZD150", [ast.CreateStmt, AlterTableType.AT_AddConstraint, AlterTableType.AT_AddColumn], check)
]
