"""The lock conflict table, what a waiting request holds up, and ZD401's scope.

The per-statement modes are measured on a real server in tests/test_lock_model_pg.py;
here: the facts derived from the conflict table and the findings built on them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import lint
from zdlint.catalogue import load_catalogue
from zdlint.config import Settings
from zdlint.findings import Finding
from zdlint.lint import lint_paths
from zdlint.locks import CONFLICTS, LOCK_MODES, conflicts, covers, queues_traffic, traffic_text

T = "SET lock_timeout = '3s';\n"


def _zd401(sql: str) -> list[str]:
    return [f.message for f in lint(sql) if f.code == "ZD401"]


def _with_history(tmp_path: Path, earlier: str, sql: str) -> list[Finding]:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_init.sql").write_text(earlier)
    target = folder / "0002_change.sql"
    target.write_text(sql)
    return list(lint_paths([str(target)], Settings(), load_catalogue()).reports[0].findings)


# --- the conflict table -----------------------------------------------------------


def test_the_conflict_table_is_symmetric_and_covers_every_mode():
    assert set(CONFLICTS) == set(LOCK_MODES)
    for mode, others in CONFLICTS.items():
        for other in others:
            assert mode in CONFLICTS[other], (mode, other)


def test_conflicts_follow_postgres_documentation():
    assert conflicts("ACCESS SHARE", "ACCESS EXCLUSIVE")
    assert not conflicts("ACCESS SHARE", "EXCLUSIVE")
    assert conflicts("ROW EXCLUSIVE", "SHARE")
    assert not conflicts("ROW EXCLUSIVE", "SHARE UPDATE EXCLUSIVE")
    assert conflicts("SHARE UPDATE EXCLUSIVE", "SHARE UPDATE EXCLUSIVE")
    assert not conflicts("SHARE", "SHARE")
    assert conflicts("SHARE ROW EXCLUSIVE", "SHARE ROW EXCLUSIVE")
    assert conflicts("EXCLUSIVE", "ROW SHARE")


@pytest.mark.parametrize(
    ("mode", "queued", "spared"),
    [
        ("AccessExclusiveLock", "reads and writes", ""),
        ("ExclusiveLock", "writes and SELECT FOR UPDATE", "plain reads"),
        ("ShareRowExclusiveLock", "writes", "reads"),
        ("ShareLock", "writes", "reads"),
    ],
)
def test_a_waiting_request_holds_up_the_traffic_it_conflicts_with(mode, queued, spared):
    assert queues_traffic(mode)
    assert traffic_text(mode) == (queued, spared)


@pytest.mark.parametrize(
    "mode", ["ShareUpdateExclusiveLock", "RowExclusiveLock", "RowShareLock", "AccessShareLock"]
)
def test_a_waiting_request_weaker_than_share_holds_up_no_reads_or_writes(mode):
    assert not queues_traffic(mode)


def test_a_held_lock_covers_a_request_when_it_conflicts_with_everything_the_request_does():
    assert covers("AccessExclusiveLock", "ShareLock")
    assert covers("ShareRowExclusiveLock", "ShareLock")
    assert not covers("ShareLock", "ShareRowExclusiveLock")
    assert not covers("ShareLock", "ShareUpdateExclusiveLock")  # another SHARE holder blocks it
    assert not covers("ShareUpdateExclusiveLock", "ShareLock")


def test_every_mode_description_agrees_with_the_conflict_table():
    for mode in LOCK_MODES.values():
        if queues_traffic(mode.name):
            queued, _ = traffic_text(mode.name)
            assert mode.blocks.startswith(queued), (mode.name, mode.blocks)
        else:
            assert "writes" not in mode.blocks or "not reads or writes" in mode.blocks


# --- ZD401: which statements need a lock_timeout ---------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE INDEX CONCURRENTLY users_email_idx ON users (email);",
        "DROP INDEX CONCURRENTLY users_email_idx;",
        "REINDEX INDEX CONCURRENTLY users_email_idx;",
        "ALTER TABLE users VALIDATE CONSTRAINT users_email_check;",
        "ALTER TABLE users SET (fillfactor = 70);",
        "ALTER TABLE users SET (autovacuum_enabled = false, toast.autovacuum_enabled = false);",
        "ALTER TABLE users RESET (fillfactor);",
        "ALTER TABLE users ALTER COLUMN email SET STATISTICS 500;",
        "ALTER TABLE users ALTER COLUMN email SET (n_distinct = 100);",
        "ALTER TABLE users CLUSTER ON users_email_idx;",
        "ALTER TABLE events DETACH PARTITION events_2020 CONCURRENTLY;",
        "ALTER INDEX users_email_idx RENAME TO users_email_index;",
        "ALTER INDEX users_email_idx SET (fillfactor = 80);",
        "ANALYZE users;",
        "VACUUM users;",
        "LOCK TABLE users IN ROW SHARE MODE;",
    ],
)
def test_a_waiting_share_update_exclusive_or_weaker_request_needs_no_lock_timeout(sql):
    assert _zd401(sql) == []


@pytest.mark.parametrize(
    ("sql", "lock", "target", "queued"),
    [
        (
            "ALTER TABLE users DISABLE TRIGGER users_touch;",
            "SHARE ROW EXCLUSIVE",
            "`users`",
            "later writes on `users` queue behind it; reads go on",
        ),
        (
            "ALTER TABLE users ENABLE ALWAYS TRIGGER users_touch;",
            "SHARE ROW EXCLUSIVE",
            "`users`",
            "later writes on `users` queue behind it; reads go on",
        ),
        (
            "ALTER TABLE users SET (user_catalog_table = true);",
            "ACCESS EXCLUSIVE",
            "`users`",
            "later reads and writes on `users` queue behind it",
        ),
        (
            "CREATE INDEX users_email_idx ON users (email);",
            "SHARE",
            "`users`",
            "later writes on `users` queue behind it; reads go on",
        ),
        (
            "DROP TRIGGER users_touch ON users;",
            "ACCESS EXCLUSIVE",
            "`users`",
            "later reads and writes on `users` queue behind it",
        ),
        (
            "DROP INDEX users_email_idx;",
            "ACCESS EXCLUSIVE",
            "index `users_email_idx`",
            "later reads and writes on the table of index `users_email_idx` queue behind it",
        ),
        (
            "REINDEX TABLE users;",
            "ACCESS EXCLUSIVE",
            "the indexes of `users`",
            "later reads and writes on `users` queue behind it",
        ),
        (
            "LOCK TABLE users IN EXCLUSIVE MODE;",
            "EXCLUSIVE",
            "`users`",
            "later writes and SELECT FOR UPDATE on `users` queue behind it; plain reads go on",
        ),
        (
            "CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint REFERENCES users);",
            "SHARE ROW EXCLUSIVE",
            "`users` (referenced by the foreign key)",
            "later writes on `users` queue behind it; reads go on",
        ),
        (
            "DROP POLICY users_own ON users;",
            "ACCESS EXCLUSIVE",
            "`users`",
            "later reads and writes on `users` queue behind it",
        ),
    ],
)
def test_the_lock_timeout_message_says_which_lock_and_exactly_what_queues(
    sql, lock, target, queued
):
    (message,) = _zd401(sql)
    assert message.startswith(f"The {lock} lock on {target} is requested with no lock_timeout")
    assert message.endswith(f"while the request waits behind a long query, {queued}")


def test_a_new_table_referencing_an_existing_one_needs_a_lock_timeout_naming_the_parent():
    sql = (
        "CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint);\n"
        "ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) "
        "REFERENCES users (id);\n"
    )
    (message,) = _zd401(sql)
    assert "SHARE ROW EXCLUSIVE lock on `users` (referenced by the foreign key)" in message
    # a table referencing only tables of the same file waits for nobody
    assert (
        _zd401("CREATE TABLE a (id int PRIMARY KEY);\nCREATE TABLE b (a_id int REFERENCES a);\n")
        == []
    )
    assert _zd401(T + "CREATE TABLE orders (user_id bigint REFERENCES users);\n") == []


def test_drop_index_names_the_table_known_from_earlier_migrations(tmp_path):
    findings = _with_history(
        tmp_path,
        "CREATE TABLE users (id int PRIMARY KEY, email text);\n"
        "CREATE INDEX users_email_idx ON users (email);\n",
        "DROP INDEX users_email_idx;\n",
    )
    (message,) = [f.message for f in findings if f.code == "ZD401"]
    assert message.startswith("The ACCESS EXCLUSIVE lock on `users` is requested")
    assert "the table of index" not in message
    (dropped,) = [f.message for f in findings if f.code == "ZD103"]
    assert dropped.startswith("Dropping index `users_email_idx` takes ACCESS EXCLUSIVE on `users`,")
    unknown = [f.message for f in lint("DROP INDEX users_email_idx;") if f.code == "ZD103"]
    assert unknown[0].startswith(
        "Dropping index `users_email_idx` takes ACCESS EXCLUSIVE on its table"
    )


def test_dropping_a_foreign_key_locks_the_referenced_table_known_from_history(tmp_path):
    earlier = (
        "CREATE TABLE users (id int PRIMARY KEY);\n"
        "CREATE TABLE orders (id int PRIMARY KEY, user_id int REFERENCES users);\n"
    )
    findings = _with_history(
        tmp_path, earlier, "ALTER TABLE orders DROP CONSTRAINT orders_user_id_fkey;\n"
    )
    assert [f.code for f in findings if f.code == "ZD401"] == ["ZD401"]
    from zdlint.sql.locking import TableLock, statement_locks
    from zdlint.sql.parse import parse_fast
    from zdlint.sql.schema import SchemaModel

    schema = SchemaModel()
    for raw in parse_fast(earlier):
        schema.apply(raw.stmt)
    (drop,) = parse_fast("ALTER TABLE orders DROP CONSTRAINT orders_user_id_fkey")
    assert statement_locks(drop.stmt, schema) == [
        TableLock("orders", "AccessExclusiveLock"),
        TableLock("users", "AccessExclusiveLock", referenced=True),
    ]


def test_a_share_update_exclusive_statement_does_not_use_up_the_stretch():
    """The first statement that really needs a timeout is the one reported."""
    sql = (
        "CREATE INDEX CONCURRENTLY users_email_idx ON users (email);\n"
        "ALTER TABLE users ADD COLUMN nick text;\n"
    )
    (finding,) = [f for f in lint(sql) if f.code == "ZD401"]
    assert finding.span.line == 2


def test_a_lock_already_held_by_the_transaction_is_no_new_wait():
    sql = (
        "BEGIN;\nLOCK TABLE users IN SHARE ROW EXCLUSIVE MODE;\n"
        "CREATE INDEX users_email_idx ON users (email);\nCOMMIT;\n"
    )
    assert [f.span.line for f in lint(sql) if f.code == "ZD401"] == [2]
    assert _zd401("BEGIN;\nCREATE TABLE t (id int);\nCREATE INDEX t_id ON t (id);\nCOMMIT;\n") == []


def test_adding_a_referencing_column_names_the_referenced_table_too():
    (message,) = _zd401("ALTER TABLE orders ADD COLUMN user_id bigint REFERENCES users (id);\n")
    assert message.startswith("The ACCESS EXCLUSIVE lock on `orders` is requested")
    assert message.endswith(
        "; later writes on `users` (referenced by the foreign key) queue behind its "
        "SHARE ROW EXCLUSIVE request too"
    )


def test_an_inline_foreign_key_on_a_column_with_a_default_is_a_validation_scan():
    found = [
        f
        for f in lint(
            T + "ALTER TABLE orders ADD COLUMN user_id bigint DEFAULT 0 REFERENCES users;"
        )
        if f.code == "ZD105"
    ]
    (finding,) = found
    assert finding.message == (
        "Adding foreign key `orders_user_id_fkey` on `orders` scans `orders` while holding "
        "ACCESS EXCLUSIVE on it, which blocks reads and writes, and SHARE ROW EXCLUSIVE on "
        "`users`, which blocks writes to it"
    )
    assert (
        "ADD CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) REFERENCES users NOT VALID;"
        in (finding.help)
    )
    assert "(unnamed)" not in finding.help


def test_an_inline_foreign_key_on_a_new_column_without_default_is_not_validated():
    """The column is all NULL: PostgreSQL marks the key valid without a scan."""
    sql = T + "ALTER TABLE orders ADD COLUMN user_id bigint REFERENCES users;"
    assert "ZD105" not in [f.code for f in lint(sql)]


def test_an_unnamed_foreign_key_gets_postgres_default_name_in_help():
    (finding,) = [
        f
        for f in lint(T + "ALTER TABLE orders ADD FOREIGN KEY (user_id) REFERENCES users (id);")
        if f.code == "ZD105"
    ]
    assert "`orders_user_id_fkey`" in finding.message
    assert finding.help.endswith(
        "then run `ALTER TABLE orders VALIDATE CONSTRAINT orders_user_id_fkey;` in a "
        "separate transaction"
    )


def test_renaming_an_index_is_no_second_access_exclusive_lock_in_the_transaction():
    """ALTER INDEX … RENAME takes SHARE UPDATE EXCLUSIVE on the index (PostgreSQL 12+)."""
    sql = (
        T + "BEGIN;\nLOCK TABLE api_key IN ACCESS EXCLUSIVE MODE;\n"
        "ALTER INDEX api_key_new_idx RENAME TO api_key_idx;\n"
        "ALTER TABLE api_key_environment ADD COLUMN note text;\nCOMMIT;\n"
    )
    (finding,) = [f for f in lint(sql) if f.code == "ZD408"]
    assert finding.span.line == 5
    assert "already holds that lock on `api_key`:" in finding.message
