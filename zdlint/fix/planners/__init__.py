"""Planners: one module per rule family, each a pure function of a statement, its
finding's facts, the migration state before it and the fix options, returning a Plan
(or Unfixable with the reason)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache

from zdlint.findings import Hit
from zdlint.fix.plan import FixOptions, Plan, Unfixable
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState

Planner = Callable[[Statement, MigrationState, Hit, FixOptions], "Plan | Unfixable"]

PLANNER_MODULES = (
    "indexes",
    "constraints",
    "not_null",
    "defaults",
    "batches",
    "columns",
    "partitions",
    "transactions",
    "concurrent",
    "contract",
    "commits",
    "timeouts",
    "foreign_key_indexes",
    "sequences",  # after "defaults": serial columns first, other defaults handed on
)


@cache
def planners() -> dict[str, Planner]:
    """Rule code -> planner, from every module's `PLANNERS`."""
    table: dict[str, Planner] = {}
    for name in PLANNER_MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        table.update(module.PLANNERS)
    return table


def plan_for(
    code: str, stmt: Statement, state: MigrationState, hit: Hit, options: FixOptions
) -> Plan | Unfixable | None:
    """The plan for one finding; None when no planner knows the rule."""
    planner = planners().get(code)
    if planner is None:
        return None
    return planner(stmt, state, hit, options)
