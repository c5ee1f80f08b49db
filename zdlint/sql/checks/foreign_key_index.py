"""ZD150: a foreign key whose referencing columns no index leads with (advisory)."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType

from zdlint.findings import Hit
from zdlint.sql.names import qualified_name, relation_name, strings
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState


def _foreign_keys(
    node: ast.Node | None,
) -> Iterator[tuple[ast.RangeVar | None, object, str, ast.AlterTableCmd | None]]:
    """(table, constraint, column name for a column constraint, ALTER TABLE subcommand)
    for each FOREIGN KEY."""
    if isinstance(node, ast.CreateStmt):
        for element in node.tableElts or ():
            if isinstance(element, ast.Constraint):
                yield node.relation, element, "", None
            elif isinstance(element, ast.ColumnDef):
                for con in element.constraints or ():
                    yield node.relation, con, element.colname or "", None
    elif isinstance(node, ast.AlterTableStmt):
        for cmd in node.cmds or ():
            if cmd.subtype == AlterTableType.AT_AddConstraint:
                yield node.relation, cmd.def_, "", cmd
            elif cmd.subtype == AlterTableType.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef):
                for con in cmd.def_.constraints or ():
                    yield node.relation, con, cmd.def_.colname or "", cmd


def check(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    for relation, con, column, cmd in _foreign_keys(stmt.node):
        if not isinstance(con, ast.Constraint) or con.contype != ConstrType.CONSTR_FOREIGN:
            continue
        columns = tuple(strings(con.fk_attrs)) or ((column,) if column else ())
        if not columns or state.has_index_for(relation_name(relation), columns):
            continue
        yield Hit(
            {
                "table": qualified_name(relation),
                "columns": ", ".join(columns),
                "referenced": qualified_name(con.pktable),
            },
            part=cmd,
        )


CHECKS = [
    ("ZD150", [ast.CreateStmt, AlterTableType.AT_AddConstraint, AlterTableType.AT_AddColumn], check)
]
