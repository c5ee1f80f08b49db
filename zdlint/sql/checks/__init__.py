"""SQL checks: one module per rule, each with `RULE`, `NODE_TYPES` and `check()`.

A check is a pure function of one statement and the migration state before it; it
returns `Hit`s and never mutates the state. The catalogue entry `rules/<RULE>-*.toml`
holds everything else about the rule.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache

from zdlint.findings import Hit
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState

CheckFunction = Callable[[Statement, MigrationState], Iterable[Hit]]

CHECK_MODULES = (
    "add_column_not_null",
    "add_column_volatile_default",
    "add_constraint_validated",
    "add_unique_without_index",
    "alter_column_type",
    "column_types",
    "concurrently_in_transaction",
    "create_index",
    "domain_constraint",
    "drop_column",
    "drop_index",
    "drop_objects",
    "drop_table",
    "enum_values",
    "exclusion_constraint",
    "fk_enforcement",
    "foreign_key_index",
    "not_null_before_writers",
    "index_maintenance",
    "lock_timeout",
    "partitions",
    "refresh_materialized_view",
    "rename",
    "replica_identity",
    "set_not_null",
    "statement_timeout",
    "table_rewrites",
    "transaction_scope",
    "truncate",
    "unbatched_dml",
    "validate_in_same_transaction",
)


@dataclass(frozen=True)
class Check:
    rule: str  # code
    node_types: tuple[type, ...]
    function: CheckFunction


@cache
def all_checks() -> tuple[Check, ...]:
    checks = []
    for name in CHECK_MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        for rule, node_types, function in module.CHECKS:
            checks.append(Check(rule, tuple(node_types), function))
    return tuple(checks)


@cache
def checks_by_node_type() -> dict[type, tuple[Check, ...]]:
    """Dispatch table: a statement only meets the checks that care about its type."""
    table: dict[type, list[Check]] = {}
    for check in all_checks():
        for node_type in check.node_types:
            table.setdefault(node_type, []).append(check)
    return {k: tuple(v) for k, v in table.items()}
