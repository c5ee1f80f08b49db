"""Unbatched UPDATE / DELETE (ZD501, ZD502): the same change in batches that each commit."""

from __future__ import annotations

from pglast import ast

from zdlint.findings import Hit
from zdlint.fix.plan import FixOptions, Plan, Unfixable
from zdlint.fix.planners._common import is_batch_tool, primary_key, relation_sql
from zdlint.fix.planners.backfill import batched_steps
from zdlint.fix.sql_text import clause
from zdlint.sql.names import relation_name, strings, walk
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState


def _guard(node: ast.UpdateStmt, set_clause: str) -> str | None:
    """`(targets) IS DISTINCT FROM (values)`: rows already changed leave the batch. None
    when a value reads a column it assigns (`n = n + 1`), which no batch can repeat."""
    targets: list[str] = []
    for target in node.targetList or ():
        if (
            not isinstance(target, ast.ResTarget)
            or target.indirection
            or isinstance(target.val, ast.MultiAssignRef)
        ):
            return None
        targets.append(target.name or "")
    read = {
        strings(n.fields)[-1]
        for n in walk(node.targetList)
        if isinstance(n, ast.ColumnRef) and n.fields and isinstance(n.fields[-1], ast.String)
    }
    if read & set(targets):
        return None
    values = [clause_value for clause_value in _values(set_clause, len(targets))]
    if len(values) != len(targets):
        return None
    return f"({', '.join(targets)}) IS DISTINCT FROM ({', '.join(values)})"


def _values(set_clause: str, count: int) -> list[str]:
    """The right-hand sides of `a = x, b = y` (top-level commas only)."""
    from zdlint.fix.sql_text import tokens

    parts, start = [], 0
    for token in tokens(set_clause):
        if token.depth == 0 and token.name == "ASCII_44":
            parts.append(set_clause[start : token.start])
            start = token.end
    parts.append(set_clause[start:])
    values = []
    for part in parts:
        _, equals, value = part.partition("=")
        if not equals:
            return []
        values.append(value.strip())
    return values if len(values) == count else []


def batched_plan(
    stmt: Statement, state: MigrationState, options: FixOptions, rule: str
) -> Plan | Unfixable:
    """The UPDATE or DELETE in batches that each commit (for `rule`'s finding)."""
    node = stmt.node
    kind = "update" if isinstance(node, ast.UpdateStmt) else "delete"
    if not isinstance(node, (ast.UpdateStmt, ast.DeleteStmt)):
        return Unfixable(rule, "only top-level UPDATE and DELETE statements are rewritten")
    returning = getattr(node, "returningList", None) or getattr(node, "returningClause", None)
    if (
        node.withClause
        or returning
        or getattr(node, "fromClause", None)
        or getattr(node, "usingClause", None)
    ):
        return Unfixable(rule, "WITH, FROM, USING and RETURNING are not rewritten")
    text = stmt.text.rstrip()
    where = clause(text, "WHERE", ("RETURNING",))
    if kind == "update":
        relation = clause(text, "UPDATE", ("SET",))
        set_clause = clause(text, "SET", ("FROM", "WHERE", "RETURNING")) or ""
    else:
        relation = clause(text, "FROM", ("USING", "WHERE", "RETURNING"))
        set_clause = ""
    if not relation:
        return Unfixable(rule, "could not read the table of the statement")
    rangevar = node.relation
    assert rangevar is not None
    alias = rangevar.alias.aliasname if rangevar.alias else None
    qualifier = alias or relation_sql(rangevar)
    key = primary_key(state, relation_name(rangevar))
    batch_tool = is_batch_tool(state)
    guard = _guard(node, set_clause) if isinstance(node, ast.UpdateStmt) else None
    if kind == "update" and guard is None and (batch_tool or key is None):
        return Unfixable(
            rule,
            "the SET reads the columns it assigns, so repeated batches cannot tell done rows"
            " apart" + ("" if key else "; zdlint also does not know the table's primary key"),
        )
    if kind == "update" and key is None and not batch_tool:
        where = f"({where}) AND {guard}" if where else guard
    steps = batched_steps(
        rule=rule,
        kind=kind,
        relation=relation,
        qualifier=qualifier,
        table_sql=relation_sql(rangevar),
        key=key,
        set_clause=set_clause,
        where=where,
        batch_size=options.batch_size,
        batch_tool=batch_tool,
        name_hint=f"{kind}_{relation_name(rangevar)}",
        single_batch_guard=guard,
    )
    return Plan(rule, tuple(steps))


def update(
    stmt: Statement, state: MigrationState, hit: Hit, options: FixOptions
) -> Plan | Unfixable:
    return batched_plan(stmt, state, options, "ZD501")


def delete(
    stmt: Statement, state: MigrationState, hit: Hit, options: FixOptions
) -> Plan | Unfixable:
    return batched_plan(stmt, state, options, "ZD502")


PLANNERS = {"ZD501": update, "ZD502": delete}
