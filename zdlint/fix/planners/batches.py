"""Unbatched UPDATE / DELETE (ZD501, ZD502): the same change in batches that each commit.

With the table's primary key the batches walk the key forward, so they end whatever the
change writes (a SET of the key itself is refused: moved rows would be changed again).
Without one, a batch is the first rows by ctid that still match, repeated until none does:
that ends only when a changed row stops matching, because the WHERE asks for what the SET
overwrites (`SET x = now() WHERE x IS NULL`) or because the SET gives the same value when
computed again in a later transaction (then `(targets) IS DISTINCT FROM (values)` tells
changed rows apart). `now()`, `random()` or a subquery give no such guarantee: refused.
"""

from __future__ import annotations

from pglast import ast
from pglast.enums import BoolExprType, NullTestType

from zdlint.findings import Hit
from zdlint.fix.plan import FixOptions, Plan, Unfixable
from zdlint.fix.planners._common import primary_key, relation_sql
from zdlint.fix.planners.backfill import TRANSACTION_TIME, batched_steps, repeatable
from zdlint.fix.sql_text import clause, quote_ident
from zdlint.sql.names import relation_name, strings, walk
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState

# Calls that never return NULL: a column they fill no longer matches `IS NULL`.
_NEVER_NULL_CALLS = TRANSACTION_TIME | {
    "clock_timestamp",
    "gen_random_uuid",
    "random",
    "timeofday",
    "uuid_generate_v1",
    "uuid_generate_v4",
    "uuidv4",
    "uuidv7",
}


def _assignments(node: ast.UpdateStmt) -> list[tuple[str, ast.Node | None]] | None:
    """(column, value) of each plain `column = value`; None for `(a, b) = …`, `a[1] = …`."""
    pairs = []
    for target in node.targetList or ():
        if (
            not isinstance(target, ast.ResTarget)
            or target.indirection
            or isinstance(target.val, ast.MultiAssignRef)
        ):
            return None
        pairs.append((target.name or "", target.val))
    return pairs


def _never_null(value: ast.Node | None) -> bool:
    while isinstance(value, ast.TypeCast):
        value = value.arg
    if isinstance(value, ast.A_Const):
        return not value.isnull
    if isinstance(value, ast.SQLValueFunction):
        return True
    if isinstance(value, ast.FuncCall):
        return strings(value.funcname)[-1] in _NEVER_NULL_CALLS
    return False


def _conjuncts(where: ast.Node | None) -> list[ast.Node]:
    if isinstance(where, ast.BoolExpr) and where.boolop == BoolExprType.AND_EXPR:
        return [c for arg in where.args or () for c in _conjuncts(arg)]
    return [] if where is None else [where]


def _changed_rows_leave_the_where(
    node: ast.UpdateStmt, pairs: list[tuple[str, ast.Node | None]]
) -> bool:
    """The WHERE requires `c IS NULL` of a column the SET fills with a value never NULL."""
    filled = {column for column, value in pairs if _never_null(value)}
    for test in _conjuncts(node.whereClause):
        if (
            isinstance(test, ast.NullTest)
            and test.nulltesttype == NullTestType.IS_NULL
            and isinstance(test.arg, ast.ColumnRef)
            and isinstance((test.arg.fields or ())[-1], ast.String)
            and strings(test.arg.fields)[-1] in filled
        ):
            return True
    return False


def _guard(
    node: ast.UpdateStmt,
    pairs: list[tuple[str, ast.Node | None]],
    set_clause: str,
    state: MigrationState,
) -> str | None:
    """`(targets) IS DISTINCT FROM (values)`: rows already changed leave the batch. None
    when a value reads a column it assigns (`n = n + 1`) or may differ when computed
    again (`now()`, `random()`, a subquery): no batch could tell done rows apart."""
    targets = [column for column, _ in pairs]
    read = {
        strings(n.fields)[-1]
        for n in walk(node.targetList)
        if isinstance(n, ast.ColumnRef) and n.fields and isinstance(n.fields[-1], ast.String)
    }
    if read & set(targets):
        return None
    if not all(repeatable(value, state.schema.functions) for _, value in pairs):
        return None
    values = _values(set_clause, len(targets))
    if len(values) != len(targets):
        return None
    table = relation_name(node.relation) if node.relation is not None else ""
    typed = []
    for target, value in zip(targets, values, strict=True):
        # compared as stored: `price = 1.005` into numeric(10,2) stores 1.01
        column = state.schema.column(table, target)
        typed.append(f"CAST({value} AS {column.type})" if column is not None else value)
    columns = ", ".join(quote_ident(t) for t in targets)
    return f"({columns}) IS DISTINCT FROM ({', '.join(typed)})"


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
    if kind == "update":
        assert isinstance(node, ast.UpdateStmt)
        pairs = _assignments(node)
        if pairs is None:
            return Unfixable(rule, "only SET column = value assignments are rewritten")
        if key is not None and key in {column for column, _ in pairs}:
            return Unfixable(
                rule,
                f"the SET changes the primary key {key}, so batches walking the key would "
                "change moved rows again",
            )
        if key is None and not _changed_rows_leave_the_where(node, pairs):
            guard = _guard(node, pairs, set_clause, state)
            if guard is None:
                return Unfixable(
                    rule,
                    "zdlint does not know the table's primary key, and a changed row would "
                    "still match: the SET reads what it assigns or is computed anew in each "
                    "batch (now(), random(), a subquery)",
                )
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
        name_hint=f"{kind}_{relation_name(rangevar)}",
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
