"""Transactions split where one holds a lock too long or holds what cannot share it:
a backfill after the DDL's transaction commits, batched (ZD407); one table per
transaction (ZD408); ADD VALUE to an enum outside any transaction before 12 (ZD405).

The statement itself stays as written (or batched); the layout closes the open
transaction before it and reopens one after it, or moves it to a new migration."""

from __future__ import annotations

from pglast import ast

from zdlint.findings import Hit
from zdlint.fix.plan import FixOptions, Plan, Step, Unfixable
from zdlint.fix.planners.batches import batched_plan
from zdlint.fix.render import render
from zdlint.sql.locking import access_exclusive_tables
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState


def backfill_after_ddl(
    stmt: Statement, state: MigrationState, hit: Hit, options: FixOptions
) -> Plan | Unfixable:
    rule = "ZD407"
    if isinstance(stmt.node, (ast.UpdateStmt, ast.DeleteStmt)):
        batched = batched_plan(stmt, state, options, rule)
        if isinstance(batched, Plan):
            return batched
    # An INSERT, or a change no batch can repeat: its own transaction, as written.
    return Plan(
        rule,
        (
            Step(
                render(rule, "statement", statement=stmt.text.rstrip()),
                rule=rule,
                new_transaction=True,
            ),
        ),
    )


def one_table_per_transaction(
    stmt: Statement, state: MigrationState, hit: Hit, options: FixOptions
) -> Plan | Unfixable:
    rule = "ZD408"
    node = stmt.node
    locked = {
        t for t in access_exclusive_tables(node, state.schema) if state.carries_traffic(node, t)
    }
    if len(locked) > 1:
        return Unfixable(
            rule, "the statement itself locks several tables; split it into one statement each"
        )
    return Plan(
        rule,
        (
            Step(
                render(rule, "statement", statement=stmt.text.rstrip()),
                rule=rule,
                new_transaction=True,
            ),
        ),
    )


def enum_value_outside_transaction(
    stmt: Statement, state: MigrationState, hit: Hit, options: FixOptions
) -> Plan | Unfixable:
    rule = "ZD405"
    return Plan(
        rule,
        (
            Step(
                render(rule, "statement", statement=stmt.text.rstrip()),
                in_transaction=False,
                rule=rule,
            ),
        ),
    )


PLANNERS = {
    "ZD405": enum_value_outside_transaction,
    "ZD407": backfill_after_ddl,
    "ZD408": one_table_per_transaction,
}
