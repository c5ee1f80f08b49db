"""Run a migration file on a server the way its migration tool runs it."""

from __future__ import annotations

from pathlib import Path

import psycopg

from zdlint.source import SourceText
from zdlint.sql.parse import parse_statements
from zdlint.sql.tools import layout_for_statements


class ApplyError(Exception):
    """The migration failed; the message names the file and PostgreSQL's first line, and
    `__cause__` is the server's error."""


def apply_as_tool(conn: psycopg.Connection, path: Path, text: str) -> None:
    """Run one migration as its tool would: a batch tool sends each deployed region as one
    query (inside BEGIN … COMMIT when the tool wraps it, else in PostgreSQL's implicit
    block); the others send statement by statement, wrapped or not. On failure the open
    transaction is rolled back and ApplyError raised."""
    parsed = parse_statements(SourceText(text))
    layout = layout_for_statements(path, parsed, text)
    for region in layout.regions:
        statements = [
            s for s in parsed if region.start <= s.start < region.end and s.node is not None
        ]
        if not region.deploy or not statements:
            continue
        own_transaction = region.wrapped and not region.implicit
        try:
            if own_transaction:
                conn.execute("BEGIN")
            if region.batch:
                conn.execute(text[region.start : region.end].encode("utf-8"))
            else:
                for stmt in statements:
                    conn.execute(stmt.text.encode("utf-8"))
            if own_transaction:
                conn.execute("COMMIT")
        except psycopg.Error as exc:
            if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                conn.execute("ROLLBACK")
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise ApplyError(f"{path.name}: {first}") from exc
