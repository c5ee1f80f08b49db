"""NOT NULL without a scan under ACCESS EXCLUSIVE (ZD101), and ADD COLUMN … NOT NULL
without a default (ZD301): a nullable column, a backfill, then the same NOT NULL steps."""

from __future__ import annotations

from dataclasses import dataclass

from pglast import ast
from pglast.enums import AlterTableType, ConstrType

from zdlint.findings import Hit
from zdlint.fix.plan import CONTRACT, EXPAND, FixOptions, Phase, Plan, Step, Unfixable
from zdlint.fix.planners._common import relation_sql, single_command
from zdlint.fix.planners.backfill import fill_null_column_steps
from zdlint.fix.render import render
from zdlint.fix.sql_text import quote_ident, remove_tokens
from zdlint.sql.default_names import object_name
from zdlint.sql.names import relation_name
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState
from zdlint.versions import NOT_NULL_TABLE_CONSTRAINT

TEMPLATE = "ZD101"
# From 12 a validated CHECK (col IS NOT NULL) lets SET NOT NULL skip its scan; from 18 a
# NOT NULL constraint itself can be added NOT VALID and validated later.
CHECK_SKIPS_SCAN_FROM = 12
NOT_NULL_NOT_VALID_FROM = NOT_NULL_TABLE_CONSTRAINT.since


@dataclass(frozen=True)
class NotNullSteps:
    before: list[Step]  # add the proof NOT VALID, validate it
    after: list[Step]  # SET NOT NULL (when asked) and drop the helper CHECK


def not_null_steps(
    rule: str,
    table_sql: str,
    table: str,
    column: str,
    state: MigrationState,
    *,
    set_not_null: bool = True,
    phase: Phase = EXPAND,
) -> NotNullSteps | Unfixable:
    """Make `table.column` NOT NULL (or ready for it) without a long ACCESS EXCLUSIVE."""
    if state.pg_version < CHECK_SKIPS_SCAN_FROM:
        return Unfixable(
            rule, f"before PostgreSQL {CHECK_SKIPS_SCAN_FROM} SET NOT NULL always scans the table"
        )
    name = object_name(table, column, "not_null")  # the name ZD101's help gives it
    ctx = dict(table=table_sql, column=quote_ident(column), constraint=quote_ident(name))
    if state.pg_version >= NOT_NULL_NOT_VALID_FROM:
        before = [
            Step(render(TEMPLATE, "add_not_null_not_valid", **ctx), True, phase, rule),
            Step(render(TEMPLATE, "validate", **ctx), True, phase, rule, new_transaction=True),
        ]
        return NotNullSteps(before, [])
    before = [
        Step(render(TEMPLATE, "add_check_not_valid", **ctx), True, phase, rule),
        Step(render(TEMPLATE, "validate", **ctx), True, phase, rule, new_transaction=True),
    ]
    after = []
    if set_not_null:
        after.append(
            Step(render(TEMPLATE, "set_not_null", **ctx), True, phase, rule, new_transaction=True)
        )
    after.append(
        Step(
            render(TEMPLATE, "drop_check", **ctx),
            True,
            phase,
            rule,
            new_transaction=not set_not_null,
        )
    )
    return NotNullSteps(before, after)


def set_not_null(
    stmt: Statement, state: MigrationState, hit: Hit, options: FixOptions
) -> Plan | Unfixable:
    rule = "ZD101"
    found = single_command(stmt, rule)
    if isinstance(found, Unfixable):
        return found
    node, cmd = found
    steps = not_null_steps(
        rule, relation_sql(node.relation), relation_name(node.relation), cmd.name or "", state
    )
    if isinstance(steps, Unfixable):
        return steps
    after = list(steps.after)
    if after and after[0].sql.endswith("SET NOT NULL"):  # keep the user's own statement
        after[0] = Step(stmt.text.rstrip(), True, EXPAND, rule, new_transaction=True)
    return Plan(rule, (*steps.before, *after))


def add_column_not_null(
    stmt: Statement, state: MigrationState, hit: Hit, options: FixOptions
) -> Plan | Unfixable:
    rule = "ZD301"
    found = single_command(stmt, rule)
    if isinstance(found, Unfixable):
        return found
    node, cmd = found
    column = cmd.def_
    assert isinstance(column, ast.ColumnDef) and cmd.subtype == AlterTableType.AT_AddColumn
    constraints = [c for c in column.constraints or () if isinstance(c, ast.Constraint)]
    if any(c.contype == ConstrType.CONSTR_PRIMARY for c in constraints):
        return Unfixable(
            rule,
            "a new PRIMARY KEY column is not rewritten; add the column, fill it, then add the key",
        )
    if any(c.contype == ConstrType.CONSTR_NOTNULL and c.conname for c in constraints):
        return Unfixable(rule, "a named NOT NULL constraint is not rewritten")
    nullable = remove_tokens(stmt.text.rstrip(), ("NOT", "NULL_P"))
    table, name = relation_sql(node.relation), relation_name(node.relation)
    colname = column.colname or ""
    expand = [Step(render(rule, "add_nullable", statement=nullable), True, EXPAND, rule)]
    contract: list[Step] = []
    if options.backfill_expr:
        # Once now for the rows that exist, and again in the contract for rows the old
        # version inserted (without the column) in between.
        for phase, target in ((EXPAND, expand), (CONTRACT, contract)):
            target.extend(
                fill_null_column_steps(
                    rule=rule,
                    state=state,
                    table=table,
                    name=name,
                    column=colname,
                    expression=options.backfill_expr,
                    batch_size=options.batch_size,
                    phase=phase,
                )
            )
    steps = not_null_steps(rule, table, name, colname, state, phase=CONTRACT)
    if isinstance(steps, Unfixable):
        return steps
    contract.extend([*steps.before, *steps.after])
    note = (
        f"Ship this once no running version inserts into {name} without {colname}"
        + ("" if options.backfill_expr else f", and every existing row has a {colname}")
        + "."
    )
    return Plan(rule, (*expand, *contract), contract_note=note)


PLANNERS = {"ZD101": set_not_null, "ZD301": add_column_not_null}
