"""A lock_timeout above the configured maximum (ZD404): the same SET, with the value
`zdlint fix` sets elsewhere (--lock-timeout), or the maximum when that is higher."""

from __future__ import annotations

from pglast import ast

from zdlint.findings import Hit
from zdlint.fix.plan import FixOptions, Plan, Step, Unfixable
from zdlint.fix.render import render
from zdlint.fix.sql_text import tokens
from zdlint.sql.names import quote_literal
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState
from zdlint.sql.timeouts import format_ms, parse_duration_ms

_VALUES = ("SCONST", "ICONST", "FCONST", "IDENT")


def lower_lock_timeout(
    stmt: Statement, state: MigrationState, hit: Hit, options: FixOptions
) -> Plan | Unfixable:
    rule = "ZD404"
    assert isinstance(stmt.node, ast.VariableSetStmt)
    wanted = parse_duration_ms(options.lock_timeout)
    value = options.lock_timeout
    if wanted > state.max_lock_timeout_ms:
        value = format_ms(state.max_lock_timeout_ms)
    text = stmt.text.rstrip()
    last = tokens(text)[-1]
    if last.name not in _VALUES:
        return Unfixable(rule, "could not find the value in the SET statement")
    sql = text[: last.start] + quote_literal(value) + text[last.end :]
    return Plan(rule, (Step(render(rule, "lowered", statement=sql), rule=rule),))


PLANNERS = {"ZD404": lower_lock_timeout}
