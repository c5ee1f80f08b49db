"""SQL checks: one module per rule, each with `RULE`, `NODE_TYPES` and `check()`.

A check is a pure function of one statement and the migration state before it; it
returns `Hit`s and never mutates the state. The catalogue entry `rules/<RULE>-*.toml`
holds everything else about the rule.

A check names what it looks at: statement types (`ast.IndexStmt`), or ALTER TABLE
subcommands (`AlterTableType.AT_SetNotNull`: an ALTER TABLE with such a subcommand), so
an ALTER TABLE only meets the checks of the subcommands it has.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import TypeVar

from pglast import ast
from pglast.enums import AlterTableType

from zdlint.findings import Hit
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState

CheckFunction = Callable[[Statement, MigrationState], Iterable[Hit]]
R = TypeVar("R")

CHECK_MODULES = (
    "add_column_not_null",
    "add_column_volatile_default",
    "add_constraint_validated",
    "add_unique_without_index",
    "alter_column_type",
    "column_types",
    "concurrently_in_transaction",
    "copy_then_swap",
    "create_index",
    "domain_constraint",
    "drop_column",
    "drop_database",
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
    "transaction_control",
    "transaction_scope",
    "truncate",
    "type_change_writers",
    "unbatched_dml",
    "validate_in_same_transaction",
    "version_features",
)


# A dispatch key: a statement type, or (ast.AlterTableStmt, subcommand type).
DispatchKey = type | tuple[type, AlterTableType]


@dataclass(frozen=True)
class Check:
    rule: str  # code
    node_types: tuple[type | AlterTableType, ...]
    function: CheckFunction
    order: int = 0  # place among all checks: a statement meets its checks in this order


@cache
def all_checks() -> tuple[Check, ...]:
    checks: list[Check] = []
    for name in CHECK_MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        for rule, node_types, function in module.CHECKS:
            checks.append(Check(rule, tuple(node_types), function, len(checks)))
    return tuple(checks)


@cache
def checks_by_node_type() -> dict[DispatchKey, tuple[Check, ...]]:
    """Dispatch table: a statement only meets the checks that care about its type (and,
    for ALTER TABLE, about one of its subcommands)."""
    table: dict[DispatchKey, list[Check]] = {}
    for check in all_checks():
        for node_type in check.node_types:
            key = (
                (ast.AlterTableStmt, node_type)
                if isinstance(node_type, AlterTableType)
                else node_type
            )
            table.setdefault(key, []).append(check)
    return {k: tuple(v) for k, v in table.items()}


def checks_for(
    node: ast.Node, table: Mapping[DispatchKey, tuple[tuple[Check, R], ...]]
) -> tuple[tuple[Check, R], ...]:
    """The (check, payload) entries of a dispatch `table` (keyed like `checks_by_node_type`)
    that `node` meets, in check order and each once."""
    found = table.get(type(node), ())
    if type(node) is not ast.AlterTableStmt:
        return found
    extra: list[tuple[Check, R]] = []
    seen = {check.order for check, _ in found}  # by place: comparing checks is slow
    subtypes = {c.subtype for c in node.cmds or () if isinstance(c, ast.AlterTableCmd)}
    for subtype in subtypes:
        for entry in table.get((ast.AlterTableStmt, subtype), ()) if subtype is not None else ():
            if entry[0].order not in seen:
                seen.add(entry[0].order)
                extra.append(entry)
    if not extra:
        return found
    return tuple(sorted((*found, *extra), key=lambda entry: entry[0].order))
