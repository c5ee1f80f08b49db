"""ZD150: a foreign key whose referencing columns no index leads with (advisory)."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType

from zdlint.findings import Hit
from zdlint.sql.locking import new_foreign_keys
from zdlint.sql.names import qualified_name, relation_name, strings
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState


def check(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    node = stmt.node
    assert isinstance(node, (ast.CreateStmt, ast.AlterTableStmt))
    relation = node.relation
    for con, column in new_foreign_keys(node):
        columns = tuple(strings(con.fk_attrs)) or ((column,) if column else ())
        if not columns or state.has_index_for(relation_name(relation), columns):
            continue
        yield Hit(
            {
                "table": qualified_name(relation),
                "columns": ", ".join(columns),
                "referenced": qualified_name(con.pktable),
            }
        )


CHECKS = [
    ("ZD150", [ast.CreateStmt, AlterTableType.AT_AddConstraint, AlterTableType.AT_AddColumn], check)
]
