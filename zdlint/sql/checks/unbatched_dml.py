"""ZD501 / ZD502: UPDATE or DELETE of a whole existing table in one statement.

Top-level statements, statements inside a DO block, and the body of a procedure
defined earlier in the file when it is CALLed are all checked.
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast

from zdlint.findings import Hit
from zdlint.sql.batching import is_batched, is_system_catalog
from zdlint.sql.names import last_name, qualified_name, relation_name
from zdlint.sql.parse import Statement
from zdlint.sql.plpgsql import EmbeddedQuery, embedded_queries
from zdlint.sql.state import MigrationState


def _unbatched(
    node: object, kind: type, state: MigrationState, query: EmbeddedQuery | None = None
) -> str | None:
    if not isinstance(node, kind):
        return None
    assert isinstance(node, (ast.UpdateStmt, ast.DeleteStmt))
    relation = node.relation
    if state.is_new_table(relation_name(relation)) or is_system_catalog(relation, state.schema):
        return None
    if is_batched(node, state.schema, query):
        return None
    return qualified_name(relation)


def _embedded(stmt: Statement, state: MigrationState, kind: type) -> Iterator[Hit]:
    node = stmt.node
    if isinstance(node, ast.DoStmt):
        body_owner, offset = stmt.text, stmt.start
    elif isinstance(node, ast.CallStmt):
        name = last_name(node.funccall.funcname) if node.funccall else ""
        body_owner, offset = state.routines.get(name.lower(), ""), None
    else:
        return
    for query in embedded_queries(body_owner):
        table = _unbatched(query.node, kind, state, query)
        if table is None:
            continue
        if offset is None:  # the procedure body lives elsewhere: point at the CALL
            yield Hit({"table": table, "where": f" (in the body of {name})"})
        else:
            yield Hit({"table": table, "where": ""}, start=offset + query.position)


def _check(kind: type):  # type: ignore[no-untyped-def]
    def check(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
        table = _unbatched(stmt.node, kind, state)
        if table is not None:
            yield Hit({"table": table, "where": ""})
        yield from _embedded(stmt, state, kind)

    return check


CHECKS = [
    ("ZD501", [ast.UpdateStmt, ast.DoStmt, ast.CallStmt], _check(ast.UpdateStmt)),
    ("ZD502", [ast.DeleteStmt, ast.DoStmt, ast.CallStmt], _check(ast.DeleteStmt)),
]
