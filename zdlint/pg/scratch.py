"""Scratch databases: where zdlint runs migrations, on its own server or on a user's.

On a server named by a DSN, zdlint only reads the server's state (`pg_is_in_recovery()`,
the version) and runs `CREATE DATABASE` / `DROP DATABASE` in the DSN's own database;
everything else happens in a scratch database it creates and always drops.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from zdlint.pg.server import start_server

DSN_ENV = "ZDLINT_DSN"
SCRATCH_PREFIX = "zdlint_scratch_"


class DatabaseError(Exception):
    """A database could not be used; the message is a sentence without passwords."""


@dataclass(frozen=True)
class Database:
    """A database zdlint may change freely (a scratch or test database)."""

    dsn: str
    version: int  # server_version_num


def mask_dsn(dsn: str) -> str:
    """The DSN with its password replaced by `***`, for messages."""
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        # Unparsable: mask anything that looks like a password anyway.
        masked = re.sub(r"(password\s*=\s*)('[^']*'|\S+)", r"\1***", dsn, flags=re.I)
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", masked)
    if params.get("password"):
        params["password"] = "***"
    return make_conninfo(**params)  # type: ignore[arg-type]


def scrub(message: str, dsn: str) -> str:
    """`message` with the DSN's password (if any) blotted out."""
    try:
        password = conninfo_to_dict(dsn).get("password")
    except psycopg.ProgrammingError:
        password = None
    if password:
        message = message.replace(str(password), "***")
    return message


def with_dbname(dsn: str, dbname: str) -> str:
    """The same connection parameters pointed at another database."""
    return make_conninfo(dsn, dbname=dbname)


def connect_error(dsn: str, exc: BaseException) -> DatabaseError:
    text = scrub(str(exc).strip().replace("\n", " "), dsn)
    return DatabaseError(f"Cannot connect to {mask_dsn(dsn)}: {text}")


def is_in_recovery(conn: psycopg.Connection) -> bool:
    """True on a hot standby (read-only replica)."""
    row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
    return bool(row and row[0])


class ScratchDatabase:
    """`with ScratchDatabase(dsn) as db:` creates `zdlint_scratch_<random>` and drops it."""

    def __init__(self, dsn: str, *, template: str | None = None) -> None:
        self.admin_dsn = dsn
        self.template = template
        self.name = SCRATCH_PREFIX + secrets.token_hex(6)
        self.database: Database | None = None

    def __enter__(self) -> Database:
        try:
            admin = psycopg.connect(self.admin_dsn, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            raise connect_error(self.admin_dsn, exc) from None
        with admin:
            if is_in_recovery(admin):
                raise DatabaseError(
                    f"{mask_dsn(self.admin_dsn)} is a hot standby (in recovery); zdlint needs "
                    "a primary where it may create a scratch database."
                )
            version = admin.info.server_version
            query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name))
            if self.template:
                query += sql.SQL(" TEMPLATE {}").format(sql.Identifier(self.template))
            try:
                admin.execute(query)
            except psycopg.errors.InsufficientPrivilege:
                raise DatabaseError(
                    f"The role in {mask_dsn(self.admin_dsn)} may not create databases; grant "
                    "it CREATEDB or point --dsn at a server where it may."
                ) from None
            except psycopg.errors.ReadOnlySqlTransaction:
                raise DatabaseError(
                    f"{mask_dsn(self.admin_dsn)} is read-only (a hot standby?); zdlint needs a "
                    "primary where it may create a scratch database."
                ) from None
            except psycopg.Error as exc:
                raise DatabaseError(
                    f"Cannot create scratch database {self.name} on "
                    f"{mask_dsn(self.admin_dsn)}: {scrub(str(exc).strip(), self.admin_dsn)}"
                ) from None
        self.database = Database(with_dbname(self.admin_dsn, self.name), version)
        return self.database

    def __exit__(self, *exc_info: object) -> None:
        if self.database is not None:
            drop_database(self.admin_dsn, self.name)
            self.database = None


def drop_database(admin_dsn: str, name: str) -> None:
    """Drop `name`, disconnecting anyone still in it (PostgreSQL 13+)."""
    with psycopg.connect(admin_dsn, autocommit=True, connect_timeout=10) as admin:
        query = sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name))
        if admin.info.server_version >= 130000:
            query += sql.SQL(" WITH (FORCE)")
        admin.execute(query)


@contextmanager
def open_database(
    dsn: str | None = None, *, env: Mapping[str, str] | None = None
) -> Iterator[Database]:
    """A scratch database: on `dsn`, else on `$ZDLINT_DSN`, else on a throwaway server.

    Raises NoPostgresError when no server can be had, DatabaseError when the given
    server cannot be used.
    """
    env = os.environ if env is None else env
    dsn = dsn or env.get(DSN_ENV) or None
    if dsn is not None:
        with ScratchDatabase(dsn) as database:
            yield database
        return
    with start_server(env=env) as server, ScratchDatabase(server.dsn("postgres")) as database:
        yield database
