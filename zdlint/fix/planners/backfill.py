"""Batched data changes: a procedure that commits per batch, CALLed outside any
transaction, so the change runs to completion before any later step.

Shared by the unbatched UPDATE/DELETE fix and by every fix that fills a new column.
Tools that wrap a file in a transaction get the CALL alone in a migration of its own,
run without one (the layout writes the tool's marker); the steps after it go to later
migrations, so nothing that relies on the change runs before it has finished.
"""

from __future__ import annotations

from collections.abc import Mapping

from pglast import ast
from pglast.enums import SQLValueFunctionOp

from zdlint.fix.plan import EXPAND, Phase, Step
from zdlint.fix.planners._common import primary_key
from zdlint.fix.render import render
from zdlint.fix.sql_text import quote_ident
from zdlint.sql.names import derived_name, strings, walk
from zdlint.sql.state import MigrationState
from zdlint.sql.volatility import IMMUTABLE, STABLE, call_volatility

TEMPLATE = "batched"  # rules/batched-*.fix.sql.j2
# STABLE, yet a different value in each transaction (each batch commits).
TRANSACTION_TIME = frozenset({"now", "transaction_timestamp", "statement_timestamp"})
_TIME_VALUES = frozenset(
    op
    for op in SQLValueFunctionOp
    if op.name.startswith(("SVFOP_CURRENT_DATE", "SVFOP_CURRENT_TIME", "SVFOP_LOCAL"))
)


def repeatable(value: ast.Node | None, user_functions: Mapping[str, str]) -> bool:
    """The value is the same when a later transaction computes it again for the row."""
    for node in walk(value):
        if isinstance(node, ast.SubLink):
            return False  # reads other rows, which may change
        if isinstance(node, ast.SQLValueFunction) and node.op in _TIME_VALUES:
            return False
        if isinstance(node, ast.FuncCall):
            name = strings(node.funcname)[-1]
            volatility = call_volatility(node, user_functions)
            if volatility not in (IMMUTABLE, STABLE) or name in TRANSACTION_TIME:
                return False
    return True


def batched_steps(
    *,
    rule: str,
    kind: str,  # "update" or "delete"
    relation: str,  # the table as SQL, with the user's alias if any
    qualifier: str,  # how the table is referred to in the statement (alias or name)
    table_sql: str,  # the table as SQL, for %TYPE
    key: str | None,  # the primary key column; None: batches by ctid until nothing matches
    set_clause: str,
    where: str | None,
    batch_size: int,
    name_hint: str,
    phase: Phase = EXPAND,
) -> list[Step]:
    """Steps that apply `UPDATE relation SET set_clause WHERE where` (or the DELETE) in
    batches of `batch_size` rows, each committed on its own."""
    context = dict(
        kind=kind,
        relation=relation,
        qualifier=qualifier,
        table=table_sql,
        key=key,
        set_clause=set_clause,
        where=where,
        batch_size=batch_size,
    )
    name = derived_name("zdlint", "batch", name_hint)
    return [
        Step(render(TEMPLATE, "procedure", name=name, **context), True, phase, rule),
        Step(render(TEMPLATE, "call", name=name), False, phase, rule),
        Step(render(TEMPLATE, "drop", name=name), True, phase, rule, True),
    ]


def fill_null_column_steps(
    *,
    rule: str,
    state: MigrationState,
    table: str,  # the table as SQL
    name: str,  # the table's bare name, for the schema model
    column: str,
    expression: str,
    batch_size: int,
    phase: Phase = EXPAND,
) -> list[Step]:
    """Batched `UPDATE table SET column = expression WHERE column IS NULL`.

    Without a known key the ctid batches end because a filled row no longer matches
    `column IS NULL`; rows the expression leaves NULL are skipped rather than retried."""
    key = primary_key(state, name)
    where = f"{quote_ident(column)} IS NULL"
    if key is None:
        where += f" AND ({expression}) IS NOT NULL"
    return batched_steps(
        rule=rule,
        kind="update",
        relation=table,
        qualifier=table,
        table_sql=table,
        key=key,
        set_clause=f"{quote_ident(column)} = {expression}",
        where=where,
        batch_size=batch_size,
        name_hint=f"{name}_{column}",
        phase=phase,
    )
