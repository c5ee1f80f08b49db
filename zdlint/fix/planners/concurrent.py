"""CONCURRENTLY statements written inside a transaction (ZD402): out of it, each alone
where the tool sends a file as one batch; and CREATE INDEX CONCURRENTLY IF NOT EXISTS
(ZD111), which would keep the INVALID index a failed build leaves: drop any leftover,
then build without IF NOT EXISTS."""

from __future__ import annotations

from pglast import ast

from zdlint.findings import Hit
from zdlint.fix.plan import FixOptions, Plan, Step, Unfixable
from zdlint.fix.render import render
from zdlint.fix.sql_text import quote_ident, remove_tokens
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState


def _index_sql(node: ast.IndexStmt) -> str | None:
    """The index a CREATE INDEX names, schema-qualified as its table is."""
    if not node.idxname:
        return None
    schema = node.relation.schemaname if node.relation else None
    return ".".join(quote_ident(n) for n in (schema, node.idxname) if n)


def _clean_build(rule: str, stmt: Statement, node: ast.IndexStmt, macro: str) -> Plan:
    """Drop a leftover of the index, then build it (IF NOT EXISTS removed)."""
    index = _index_sql(node)
    create = remove_tokens(stmt.text.rstrip(), ("IF_P", "NOT", "EXISTS"))
    sqls = [] if index is None else [render(rule, "drop_leftover", index=index)]
    sqls.append(render(rule, macro, statement=create))
    return Plan(rule, tuple(Step(sql, False, rule=rule) for sql in sqls))


def out_of_transaction(
    stmt: Statement, state: MigrationState, hit: Hit, options: FixOptions
) -> Plan | Unfixable:
    rule = "ZD402"
    node = stmt.node
    if isinstance(node, ast.IndexStmt):
        return _clean_build(rule, stmt, node, "statement")
    statement = render(rule, "statement", statement=stmt.text.rstrip())
    return Plan(rule, (Step(statement, False, rule=rule),))


def if_not_exists(
    stmt: Statement, state: MigrationState, hit: Hit, options: FixOptions
) -> Plan | Unfixable:
    rule = "ZD111"
    node = stmt.node
    assert isinstance(node, ast.IndexStmt)
    return _clean_build(rule, stmt, node, "create")


PLANNERS = {"ZD111": if_not_exists, "ZD402": out_of_transaction}
