"""Batched data changes: a procedure that commits per batch, or one batch for a driver loop.

Shared by the unbatched UPDATE/DELETE fix and by every fix that fills a new column.
"""

from __future__ import annotations

from zdlint.fix.plan import EXPAND, Phase, Step
from zdlint.fix.planners._common import is_batch_tool, primary_key
from zdlint.fix.render import render
from zdlint.fix.sql_text import quote_ident
from zdlint.sql.names import derived_name
from zdlint.sql.state import MigrationState

TEMPLATE = "batched"  # rules/batched-*.fix.sql.j2


def batched_steps(
    *,
    rule: str,
    kind: str,  # "update" or "delete"
    relation: str,  # the table as SQL, with the user's alias if any
    qualifier: str,  # how the table is referred to in the statement (alias or name)
    table_sql: str,  # the table as SQL, for %TYPE
    key: str | None,
    set_clause: str,
    where: str | None,
    batch_size: int,
    batch_tool: bool,
    name_hint: str,
    phase: Phase = EXPAND,
    single_batch_guard: str | None = None,
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
    if batch_tool:
        sql = render(TEMPLATE, "single_batch", guard=single_batch_guard, **context)
        return [Step(sql, True, phase, rule, new_transaction=True)]
    name = derived_name("zdlint", "batch", name_hint)
    return [
        Step(render(TEMPLATE, "procedure", name=name, **context), True, phase, rule, True),
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
    """Batched `UPDATE table SET column = expression WHERE column IS NULL`."""
    return batched_steps(
        rule=rule,
        kind="update",
        relation=table,
        qualifier=table,
        table_sql=table,
        key=primary_key(state, name),
        set_clause=f"{quote_ident(column)} = {expression}",
        where=f"{quote_ident(column)} IS NULL",
        batch_size=batch_size,
        batch_tool=is_batch_tool(state),
        name_hint=f"{name}_{column}",
        phase=phase,
    )
