"""ATTACH PARTITION without the scan (ZD107): a CHECK spelling out the bound is added
NOT VALID and validated in its own transaction, so the ATTACH finds the bound proven and
skips its scan under ACCESS EXCLUSIVE; the CHECK is dropped afterwards."""

from __future__ import annotations

from pglast import ast
from pglast.enums import AlterTableType

from zdlint.findings import Hit
from zdlint.fix.plan import FixOptions, Plan, Step, Unfixable
from zdlint.fix.planners._common import relation_sql, single_command
from zdlint.fix.render import render
from zdlint.fix.sql_text import quote_ident
from zdlint.sql.names import derived_name, relation_name, strings
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState
from zdlint.sql.statement_sql import deparse

RULE = "ZD107"
RANGE, LIST = "r", "l"


def _unbounded(datum: ast.Node) -> str | None:
    """`minvalue` or `maxvalue` for MINVALUE / MAXVALUE (pglast reads them as column names)."""
    if isinstance(datum, ast.ColumnRef):
        word = strings(datum.fields)[-1].lower()
        if word in ("minvalue", "maxvalue"):
            return word
    return None


def _is_null(datum: ast.Node) -> bool:
    return isinstance(datum, ast.A_Const) and bool(datum.isnull)


def bound_predicate(column: str, bound: ast.PartitionBoundSpec) -> str | Unfixable:
    """The partition bound as a boolean expression on the key column, NOT NULL included."""
    key = quote_ident(column)
    if bound.strategy == RANGE:
        (lower,), (upper,) = bound.lowerdatums or (None,), bound.upperdatums or (None,)
        assert lower is not None and upper is not None
        parts = [f"{key} IS NOT NULL"]  # a range partition never holds a NULL key
        if _unbounded(lower) is None:
            parts.append(f"{key} >= {deparse(lower)}")
        if _unbounded(upper) is None:
            parts.append(f"{key} < {deparse(upper)}")
        return " AND ".join(parts)
    if bound.strategy == LIST:
        values = [deparse(d) for d in bound.listdatums or () if not _is_null(d)]
        accepts_null = any(_is_null(d) for d in bound.listdatums or ())
        within = f"{key} IN ({', '.join(values)})" if values else ""
        if not accepts_null:
            return f"{key} IS NOT NULL AND {within}"
        return f"({key} IS NULL OR {within})" if within else f"{key} IS NULL"
    return Unfixable(RULE, "a HASH partition bound is not rewritten; attach it as written")


def attach_partition(
    stmt: Statement, state: MigrationState, hit: Hit, options: FixOptions
) -> Plan | Unfixable:
    found = single_command(stmt, RULE)
    if isinstance(found, Unfixable):
        return found
    node, cmd = found
    if cmd.subtype != AlterTableType.AT_AttachPartition or not isinstance(
        cmd.def_, ast.PartitionCmd
    ):
        return Unfixable(RULE, "the statement is not a single ATTACH PARTITION")
    bound = cmd.def_.bound
    assert bound is not None
    parent_name = relation_name(node.relation)
    if bound.is_default:
        return Unfixable(
            RULE,
            "a DEFAULT partition's bound is everything the other partitions leave out; add a "
            "validated CHECK saying so by hand before attaching it",
        )
    parent = state.schema.tables.get(parent_name)
    if parent is None or not parent.partition_key:
        return Unfixable(
            RULE,
            f"zdlint does not know the partition key of `{parent_name}`: keep the earlier "
            "migrations beside the file, or pass --schema",
        )
    if len(parent.partition_key) != 1:
        return Unfixable(
            RULE,
            f"`{parent_name}` is partitioned on several columns; a CHECK matching the bound is "
            "not written for that",
        )
    if parent.partition_of is not None:
        return Unfixable(
            RULE,
            f"`{parent_name}` is itself a partition: the ATTACH must also prove its bound, "
            "which a CHECK on the new partition's own bound does not",
        )
    predicate = bound_predicate(parent.partition_key[0], bound)
    if isinstance(predicate, Unfixable):
        return predicate
    partition_var = cmd.def_.name
    assert partition_var is not None and partition_var.relname is not None
    partition = relation_sql(partition_var)
    constraint = quote_ident(derived_name(partition_var.relname, "bound"))
    names = {"partition": partition, "constraint": constraint}
    return Plan(
        RULE,
        (
            Step(render(RULE, "add_bound_check", predicate=predicate, **names), rule=RULE),
            Step(render(RULE, "validate", **names), rule=RULE, new_transaction=True),
            Step(
                render(RULE, "attach", statement=stmt.text.rstrip()),
                rule=RULE,
                new_transaction=True,
            ),
            Step(render(RULE, "drop_bound_check", **names), rule=RULE, new_transaction=True),
        ),
    )


PLANNERS = {RULE: attach_partition}
