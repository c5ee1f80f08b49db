"""Boolean options in parentheses are read as PostgreSQL's defGetBoolean reads them."""

from __future__ import annotations

import pytest
from pglast import ast, parse_sql

from zdlint.sql.locking import (
    access_exclusive_tables,
    is_concurrent_reindex,
    is_vacuum_full,
    statement_locks,
)
from zdlint.sql.options import boolean_option


def _node(sql: str) -> ast.Node:
    return parse_sql(sql)[0].stmt


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("FULL", True),
        ("FULL true", True),
        ("FULL TRUE", True),
        ("FULL on", True),
        ("FULL 1", True),
        ("FULL false", False),
        ("FULL Off", False),
        ("FULL 0", False),
        ("FULL 'no'", None),  # PostgreSQL rejects it: "full requires a Boolean value"
        ("FULL 2", None),
        ("ANALYZE", None),  # not written at all
        ("FULL false, FULL", True),  # the last one written wins
    ],
)
def test_boolean_option_reads_every_spelling_postgresql_accepts(written, value):
    node = _node(f"VACUUM ({written}) t")
    assert isinstance(node, ast.VacuumStmt)
    assert boolean_option(node.options, "full") is value


@pytest.mark.parametrize(
    ("sql", "full"),
    [
        ("VACUUM FULL t", True),
        ("VACUUM (FULL) t", True),
        ("VACUUM (FULL FALSE) t", False),
        ("VACUUM (FULL 0) t", False),
        ("VACUUM t", False),
    ],
)
def test_vacuum_full_false_is_a_plain_vacuum_without_access_exclusive(sql, full):
    node = _node(sql)
    assert is_vacuum_full(node) is full
    assert access_exclusive_tables(node) == (["t"] if full else [])


@pytest.mark.parametrize(
    ("sql", "concurrent"),
    [
        ("REINDEX TABLE CONCURRENTLY t", True),
        ("REINDEX (CONCURRENTLY) TABLE t", True),
        ("REINDEX (CONCURRENTLY true) TABLE t", True),
        ("REINDEX (CONCURRENTLY false) TABLE t", False),
        ("REINDEX (CONCURRENTLY 0, VERBOSE) TABLE t", False),
    ],
)
def test_reindex_concurrently_false_is_not_concurrent(sql, concurrent):
    node = _node(sql)
    assert is_concurrent_reindex(node) is concurrent
    modes = {lock.mode for lock in statement_locks(node)}
    assert (modes == {"ShareUpdateExclusiveLock"}) is concurrent
