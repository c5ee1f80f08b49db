"""Pytest fixtures for tests that need a real PostgreSQL.

One throwaway server per test session (`pg_server`); each test gets a fresh database
cloned from `zdlint_template` (`pg_dsn`, `pg_database`, `pg_conn`). When no PostgreSQL can
be found these fixtures fail loudly: CI installs the `pg` extra, so a skip would hide a
broken setup.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from zdlint.pg.binaries import NoPostgresError
from zdlint.pg.scratch import Database, drop_database, with_dbname
from zdlint.pg.server import PgServer, start_server

TEMPLATE = "zdlint_template"
_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A throwaway PostgreSQL server for the whole session, with a template database."""
    try:
        with start_server() as server:
            with psycopg.connect(server.dsn(), autocommit=True) as conn:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE)))
            yield server
    except NoPostgresError as exc:
        pytest.fail(f"PostgreSQL is needed for this test and none could be started: {exc}")


@pytest.fixture
def pg_dsn(pg_server: PgServer) -> Iterator[str]:
    """The DSN of a fresh database, cloned from the template and dropped after the test."""
    name = f"zdlint_test_{next(_numbers)}"
    admin = pg_server.dsn()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(TEMPLATE)
            )
        )
    try:
        yield with_dbname(admin, name)
    finally:
        drop_database(admin, name)


@pytest.fixture
def pg_database(pg_dsn: str, pg_server: PgServer) -> Database:
    """The fresh test database as a `Database`, ready for `zdlint.pg.trace.run_trace`."""
    return Database(pg_dsn, pg_server.version)


@pytest.fixture
def pg_conn(pg_dsn: str) -> Iterator[psycopg.Connection]:
    """An autocommit connection to the fresh test database."""
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        yield conn
