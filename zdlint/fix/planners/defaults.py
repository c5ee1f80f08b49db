"""ADD COLUMN with a volatile default (ZD201): add the column without it, set the default
for new rows, then fill the existing rows in batches."""

from __future__ import annotations

from pglast.enums import ConstrType

from zdlint.findings import Hit
from zdlint.fix.plan import FixOptions, Plan, Step, Unfixable
from zdlint.fix.planners._common import relation_sql, single_new_column
from zdlint.fix.planners.backfill import fill_null_column_steps
from zdlint.fix.planners.not_null import not_null_steps
from zdlint.fix.render import render
from zdlint.fix.sql_text import quote_ident
from zdlint.sql.names import relation_name
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState
from zdlint.sql.statement_sql import deparse

_KEPT = {ConstrType.CONSTR_DEFAULT, ConstrType.CONSTR_NOTNULL, ConstrType.CONSTR_NULL}


def add_column_volatile_default(
    stmt: Statement, state: MigrationState, hit: Hit, options: FixOptions
) -> Plan | Unfixable:
    rule = "ZD201"
    found = single_new_column(stmt, rule)
    if isinstance(found, Unfixable):
        return found
    node, column, constraints = found
    default = next((c for c in constraints if c.contype == ConstrType.CONSTR_DEFAULT), None)
    if default is None or default.raw_expr is None:
        return Unfixable(
            rule,
            "serial and identity columns are not rewritten; add a plain column and a sequence"
            " default",
        )
    if any(c.contype not in _KEPT for c in constraints) or column.collClause is not None:
        return Unfixable(
            rule,
            "the column has constraints besides DEFAULT and NOT NULL; add them after the backfill",
        )
    not_null = column.is_not_null or any(
        c.contype == ConstrType.CONSTR_NOTNULL for c in constraints
    )
    table, name = relation_sql(node.relation), relation_name(node.relation)
    colname = column.colname or ""
    expression = deparse(default.raw_expr)
    ctx = dict(
        table=table, column=quote_ident(colname), type=deparse(column.typeName), default=expression
    )
    return add_then_fill(rule, state, options, ctx, name, colname, expression, not_null)


def add_then_fill(
    rule: str,
    state: MigrationState,
    options: FixOptions,
    ctx: dict[str, str],
    name: str,
    column: str,
    expression: str,
    not_null: bool,
    before: tuple[str, ...] = (),
    after_add: tuple[str, ...] = (),
) -> Plan | Unfixable:
    """The column added without its default (instant), the default set for new rows, the
    existing rows filled with `expression` in batches, then NOT NULL through a validated
    CHECK when `not_null`. `before` and `after_add` name more of the rule's templates,
    rendered with `ctx`, to run first and right after the ADD."""
    steps = [
        *(Step(render(rule, t, **ctx), True, rule=rule) for t in before),
        Step(render(rule, "add_without_default", **ctx), True, rule=rule),
        *(Step(render(rule, t, **ctx), True, rule=rule) for t in after_add),
        Step(render(rule, "set_default", **ctx), True, rule=rule),
        *fill_null_column_steps(
            rule=rule,
            state=state,
            table=ctx["table"],
            name=name,
            column=column,
            expression=expression,
            batch_size=options.batch_size,
        ),
    ]
    if not_null:
        proof = not_null_steps(rule, ctx["table"], name, column, state)
        if isinstance(proof, Unfixable):
            return proof
        steps.extend([*proof.before, *proof.after])
    return Plan(rule, tuple(steps))


PLANNERS = {"ZD201": add_column_volatile_default}
