"""A COMMIT where a lock would otherwise be held through slow work: VALIDATE after the
NOT VALID add has committed (ZD403), and any work after ACCESS EXCLUSIVE in a new
transaction (ZD409). The statement keeps its text and its place; the layout closes the
open transaction before it (or, for a tool that wraps the file, moves it and what follows
to a new migration)."""

from __future__ import annotations

from dataclasses import replace

from pglast import ast
from pglast.enums import TransactionStmtKind

from zdlint.findings import Hit
from zdlint.fix.plan import FixOptions, Plan, Step, Unfixable
from zdlint.fix.planners._common import single_command
from zdlint.fix.render import render
from zdlint.sql.long_operations import work_under_lock
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState

_BOUNDS = {
    TransactionStmtKind.TRANS_STMT_BEGIN,
    TransactionStmtKind.TRANS_STMT_START,
    TransactionStmtKind.TRANS_STMT_COMMIT,
    TransactionStmtKind.TRANS_STMT_ROLLBACK,
}


def removed_earlier(stmt: Statement, state: MigrationState) -> str | None:
    """What the open transaction dropped or renamed before `stmt` (its SQL, shortened):
    a COMMIT here would show the running version the schema without it, until the
    statements after it (often a CREATE of the same name) put it back."""
    for earlier in reversed(state.file_statements[: stmt.index]):
        node = earlier.node
        if isinstance(node, ast.TransactionStmt) and node.kind in _BOUNDS:
            return None
        if isinstance(node, (ast.DropStmt, ast.RenameStmt)):
            return " ".join(earlier.text.split())[:60]
    return None


def _in_new_transaction(rule: str, stmt: Statement, state: MigrationState) -> Plan | Unfixable:
    removed = removed_earlier(stmt, state)
    if removed is not None:
        return Unfixable(
            rule,
            f"the transaction already ran `{removed}`; a COMMIT before this statement would"
            " show the running version the schema without it",
        )
    sql = render(rule, "statement", statement=stmt.text.rstrip())
    return Plan(rule, (Step(sql, rule=rule, new_transaction=True),))


def validate_later(
    stmt: Statement, state: MigrationState, hit: Hit, options: FixOptions
) -> Plan | Unfixable:
    rule = "ZD403"
    found = single_command(stmt, rule)  # ADD … NOT VALID, VALIDATE in one: split first
    if isinstance(found, Unfixable):
        return found
    return _in_new_transaction(rule, stmt, state)


def work_after_lock(
    stmt: Statement, state: MigrationState, hit: Hit, options: FixOptions
) -> Plan | Unfixable:
    rule = "ZD409"
    if isinstance(stmt.node, (ast.TransactionStmt, ast.VariableSetStmt)):
        return Unfixable(rule, "the statement controls the transaction itself")
    return _in_new_transaction(rule, stmt, state)


PLANNERS = {"ZD403": validate_later, "ZD409": work_after_lock}


def out_from_under_lock(plan: Plan, stmt: Statement, state: MigrationState) -> Plan:
    """`plan` for a rule that supersedes ZD409 (its fix takes the statement's work out
    from under the ACCESS EXCLUSIVE lock its transaction already holds): when such a lock
    is held and the statement waits or works under it, the first step commits first."""
    first = plan.steps[0] if plan.steps else None
    if first is None or not first.in_transaction or first.new_transaction:
        return plan
    if not (state.in_transaction and state.access_exclusive and work_under_lock(stmt.node, state)):
        return plan
    if removed_earlier(stmt, state) is not None:
        return plan  # a COMMIT here would expose what the transaction removed
    return replace(plan, steps=(replace(first, new_transaction=True), *plan.steps[1:]))
