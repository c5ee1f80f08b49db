"""ZD401: DDL on an existing table with no lock_timeout; ZD404: a lock_timeout too long."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import VariableSetKind

from zdlint.findings import Hit
from zdlint.locks import lock_mode, traffic_text
from zdlint.sql.locking import ALL_INDEXES, LOCKING_STATEMENTS, TableLock
from zdlint.sql.names import const_string
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState
from zdlint.sql.timeouts import format_ms, parse_duration_ms


def missing(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    """Report each statement of a stretch without a lock_timeout whose lock request,
    while it waits, holds up reads or writes on a table no earlier statement of the
    stretch queued on: one SET lock_timeout mends them all, but each names the traffic
    it holds up."""
    if state.lock_timeout_ms is not None:
        return
    queued = [
        lock
        for lock in state.queued_locks(stmt.node)
        if lock.relation not in state.queued_without_lock_timeout
    ]
    if not queued:
        return
    # the request that holds up the most traffic; the statement's own table on a tie
    lock = max(queued, key=lambda q: lock_mode(q.mode).strength)
    blocked, spared = traffic_text(lock.mode)
    also = ""
    named = {lock.relation}
    for other in queued:  # other tables wait too: a foreign key's referenced table
        if other.relation not in named:
            named.add(other.relation)
            also += (
                f"; later {traffic_text(other.mode)[0]} on {lock_target(other)['target']} "
                f"queue behind its {lock_mode(other.mode).sql_name} request too"
            )
    target = lock_target(lock)
    schema = state.schema
    name = lock.table
    if name and lock.index is None and name not in schema.tables and name not in schema.views:
        owner = schema.sequence_table(name)
        if owner is not None:  # the traffic a sequence carries: its table's inserts
            target = {"target": f"sequence `{name}`", "table": f"`{owner}`"}
            blocked, spared = "inserts (which take their numbers from it)", ""
    yield Hit(
        {
            **target,
            "queued": blocked,
            "spared": f"; {spared} go on" if spared else "",
            "also": also,
        },
        lock=lock.mode,
    )


def lock_target(lock: TableLock) -> dict[str, str]:
    """How a message names what is locked (`target`) and the table that waits (`table`)."""
    if lock.table is None:
        return {"target": f"index `{lock.index}`", "table": f"the table of index `{lock.index}`"}
    table = f"`{lock.table}`"
    if lock.index == ALL_INDEXES:
        return {"target": f"the indexes of {table}", "table": table}
    if lock.index is not None:
        return {"target": f"index `{lock.index}` of {table}", "table": table}
    if lock.referenced:
        return {"target": f"{table} (referenced by the foreign key)", "table": table}
    return {"target": table, "table": table}


def too_long(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    node = stmt.node
    assert isinstance(node, ast.VariableSetStmt)
    if (node.name or "").lower() != "lock_timeout" or node.kind != VariableSetKind.VAR_SET_VALUE:
        return
    text = const_string(node.args[0]) if node.args else None
    if text is None:
        return
    try:
        value = parse_duration_ms(text)
    except ValueError:
        return
    if value > state.max_lock_timeout_ms:
        yield Hit({"value": format_ms(value), "maximum": format_ms(state.max_lock_timeout_ms)})


CHECKS = [
    ("ZD401", list(LOCKING_STATEMENTS), missing),
    ("ZD404", [ast.VariableSetStmt], too_long),
]
