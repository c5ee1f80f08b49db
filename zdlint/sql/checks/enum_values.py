"""ZD405 / ZD406: ALTER TYPE … ADD VALUE and transactions."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast

from zdlint.findings import Hit
from zdlint.sql.names import last_name, quote_literal, walk
from zdlint.sql.parse import Statement
from zdlint.sql.plpgsql import embedded_queries
from zdlint.sql.state import MigrationState


def add_value_in_transaction(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    """Before PostgreSQL 12 ADD VALUE refuses to run in a transaction block, unless the
    type was created in that same transaction."""
    node = stmt.node
    assert isinstance(node, ast.AlterEnumStmt)
    type_ = last_name(node.typeName)
    if node.newVal and node.oldVal is None and state.in_transaction:
        if type_ not in state.created_types:
            yield Hit({"type": type_, "label": node.newVal, "origin": state.transaction_origin})


def _string_constants(stmt: Statement) -> Iterator[str]:
    """Every string constant of the statement, also inside a DO block's statements."""
    trees: list[object] = [stmt.node]
    if isinstance(stmt.node, ast.DoStmt):
        trees = [query.node for query in embedded_queries(stmt.text)]
    for tree in trees:
        for node in walk(tree):
            if isinstance(node, ast.A_Const) and isinstance(node.val, ast.String):
                yield node.val.sval or ""


def new_value_used(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    if not state.in_transaction or not state.enum_values_in_transaction:
        return
    for value in _string_constants(stmt):
        type_ = state.enum_values_in_transaction.get(value)
        if type_ is None:
            continue
        # pglast keeps no location for constants: point at the literal as written.
        quoted = quote_literal(value)
        found = stmt.text.find(quoted)
        start = None if found < 0 else stmt.start + found
        end = None if start is None else start + len(quoted)
        yield Hit({"label": value, "type": type_}, start=start, end=end)
        return


_USES = [
    ast.InsertStmt,
    ast.UpdateStmt,
    ast.DeleteStmt,
    ast.SelectStmt,
    ast.AlterTableStmt,
    ast.CreateStmt,
    ast.IndexStmt,
    ast.ViewStmt,
    ast.DoStmt,
    ast.AlterDomainStmt,
]

CHECKS = [
    ("ZD405", [ast.AlterEnumStmt], add_value_in_transaction),
    ("ZD406", _USES, new_value_used),
]
