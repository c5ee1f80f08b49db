"""Index builds and drops, REINDEX and DETACH PARTITION: the CONCURRENTLY forms, each a
step outside any transaction (ZD102, ZD103, ZD108, ZD110)."""

from __future__ import annotations

from pglast import ast
from pglast.enums import AlterTableType, DropBehavior, ReindexObjectType

from zdlint.findings import Hit
from zdlint.fix.plan import FixOptions, Plan, Step, Unfixable
from zdlint.fix.render import render
from zdlint.fix.sql_text import insert_after, quote_ident, remove_tokens
from zdlint.sql.names import relation_name, strings
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState
from zdlint.sql.statement_sql import concurrent_reindex, deparse
from zdlint.versions import DETACH_CONCURRENTLY, REINDEX_CONCURRENTLY

REINDEX_CONCURRENTLY_FROM = REINDEX_CONCURRENTLY.since
DETACH_CONCURRENTLY_FROM = DETACH_CONCURRENTLY.since


def _concurrently(rule: str, text: str) -> str | Unfixable:
    """The statement with CONCURRENTLY after its INDEX keyword."""
    sql = insert_after(text, "INDEX", "CONCURRENTLY")
    return sql if sql is not None else Unfixable(rule, "could not find INDEX in the statement")


def create_index(
    stmt: Statement, state: MigrationState, hit: Hit, options: FixOptions
) -> Plan | Unfixable:
    node = stmt.node
    assert isinstance(node, ast.IndexStmt)
    rule = "ZD102"
    if state.is_partitioned(relation_name(node.relation)):
        return Unfixable(
            rule,
            "CREATE INDEX CONCURRENTLY is not possible on a partitioned table: build the index "
            "on each partition, then create it ON ONLY the parent and ATTACH each one",
        )
    known = state.schema.indexes.get(node.idxname or "")
    if (
        node.if_not_exists
        and known is not None
        and known.valid
        and known.table == relation_name(node.relation)
    ):
        # An earlier migration built it, so the original does nothing. Dropping it to
        # build it again would leave the table without it meanwhile, and fails outright
        # when a constraint or a foreign key depends on a unique index: keep the no-op.
        create = _concurrently(rule, stmt.text)
        if isinstance(create, Unfixable):
            return create
        reason = f"{node.idxname} exists (an earlier migration built it): IF NOT EXISTS keeps it"
        return Plan(
            rule, (Step(render(rule, "keep", statement=create, reason=reason), False, rule=rule),)
        )
    text = remove_tokens(stmt.text, ("IF_P", "NOT", "EXISTS"))
    create = _concurrently(rule, text)
    if isinstance(create, Unfixable):
        return create
    steps = []
    if node.idxname:
        schema = node.relation.schemaname if node.relation else None
        index = ".".join(quote_ident(n) for n in (schema, node.idxname) if n)
        steps.append(Step(render(rule, "drop_leftover", index=index), False, rule=rule))
    steps.append(Step(render(rule, "create", statement=create), False, rule=rule))
    return Plan(rule, tuple(steps))


def drop_index(
    stmt: Statement, state: MigrationState, hit: Hit, options: FixOptions
) -> Plan | Unfixable:
    node = stmt.node
    assert isinstance(node, ast.DropStmt)
    rule = "ZD103"
    if node.behavior == DropBehavior.DROP_CASCADE:
        return Unfixable(
            rule, "DROP INDEX CONCURRENTLY cannot CASCADE; drop the dependent objects first"
        )
    names = [".".join(quote_ident(n) for n in strings(obj)) for obj in node.objects or ()]
    if len(names) == 1:
        sql = _concurrently(rule, stmt.text)
        if isinstance(sql, Unfixable):
            return sql
        steps = [Step(render(rule, "drop", statement=sql), False, rule=rule)]
    else:  # CONCURRENTLY drops one index per statement
        steps = [
            Step(render(rule, "drop_one", index=name, if_exists=node.missing_ok), False, rule=rule)
            for name in names
        ]
    return Plan(rule, tuple(steps))


def reindex(
    stmt: Statement, state: MigrationState, hit: Hit, options: FixOptions
) -> Plan | Unfixable:
    node = stmt.node
    assert isinstance(node, ast.ReindexStmt)
    rule = "ZD110"
    if state.pg_version < REINDEX_CONCURRENTLY_FROM:
        return Unfixable(rule, f"REINDEX CONCURRENTLY needs PostgreSQL {REINDEX_CONCURRENTLY_FROM}")
    if node.kind == ReindexObjectType.REINDEX_OBJECT_SYSTEM:
        return Unfixable(rule, "REINDEX SYSTEM cannot run CONCURRENTLY")
    if any(p.defname == "concurrently" for p in node.params or ()):
        # `(CONCURRENTLY false)`: written again with CONCURRENTLY on
        sql: str | None = concurrent_reindex(node)
    else:
        sql = next(
            (
                found
                for keyword in ("INDEX", "TABLE", "SCHEMA", "DATABASE")
                if (found := insert_after(stmt.text, keyword, "CONCURRENTLY")) is not None
            ),
            None,
        )
    if sql is None:
        return Unfixable(rule, "could not find the REINDEX target keyword in the statement")
    return Plan(rule, (Step(render(rule, "reindex", statement=sql), False, rule=rule),))


def detach_partition(
    stmt: Statement, state: MigrationState, hit: Hit, options: FixOptions
) -> Plan | Unfixable:
    node = stmt.node
    assert isinstance(node, ast.AlterTableStmt)
    rule = "ZD108"
    if state.pg_version < DETACH_CONCURRENTLY_FROM:
        return Unfixable(
            rule, f"DETACH PARTITION CONCURRENTLY needs PostgreSQL {DETACH_CONCURRENTLY_FROM}"
        )
    cmds = node.cmds or ()
    if len(cmds) != 1 or cmds[0].subtype != AlterTableType.AT_DetachPartition:
        return Unfixable(
            rule, "the ALTER TABLE has several subcommands; split it into one statement each"
        )
    detach = cmds[0].def_
    assert isinstance(detach, ast.PartitionCmd)
    sql = render(
        rule,
        "detach",
        statement=stmt.text.rstrip() + " CONCURRENTLY",
        partition=deparse(detach.name),
    )
    return Plan(rule, (Step(sql, False, rule=rule),), keeps_bound_check=True)


PLANNERS = {
    "ZD102": create_index,
    "ZD103": drop_index,
    "ZD108": detach_partition,
    "ZD110": reindex,
}
