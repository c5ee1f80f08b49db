"""Generate a realistic synthetic migrations folder: a deterministic DDL/DML mix.

The mix follows what real migration folders hold: table creation, added columns and
indexes (some CONCURRENTLY), constraints added NOT VALID then validated, enum types,
backfills, renames, drops, timeouts and explicit transactions, functions and triggers.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

_TYPES = ("bigint", "integer", "text", "varchar(255)", "boolean", "timestamptz", "jsonb", "uuid")
_WORDS = (
    "account", "user", "order", "invoice", "payment", "product", "session", "event",
    "comment", "post", "team", "project", "task", "webhook", "audit", "tag",
)  # fmt: skip


class _Mix:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.tables: list[str] = ["users", "accounts"]
        self.counter = 0

    def name(self, prefix: str = "") -> str:
        self.counter += 1
        return f"{prefix}{self.rng.choice(_WORDS)}_{self.counter}"

    def table(self) -> str:
        return self.rng.choice(self.tables)

    def create_table(self) -> str:
        table = self.name()
        self.tables.append(table)
        columns = ["    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY"]
        for _ in range(self.rng.randint(2, 9)):
            column = f"    {self.name('c_')} {self.rng.choice(_TYPES)}"
            if self.rng.random() < 0.3:
                column += " NOT NULL"
            if self.rng.random() < 0.2:
                column += " DEFAULT now()" if "timestamptz" in column else ""
            columns.append(column)
        if self.rng.random() < 0.4 and len(self.tables) > 1:
            other = self.rng.choice(self.tables[:-1])
            columns.append(f"    {other}_id bigint REFERENCES {other} (id) ON DELETE CASCADE")
        columns.append("    created_at timestamptz NOT NULL DEFAULT now()")
        return f"CREATE TABLE {table} (\n" + ",\n".join(columns) + "\n)"

    def add_column(self) -> str:
        column = f"{self.name('c_')} {self.rng.choice(_TYPES)}"
        if self.rng.random() < 0.25:
            column += " NOT NULL DEFAULT 0" if "int" in column else ""
        return f"ALTER TABLE {self.table()} ADD COLUMN {column}"

    def create_index(self) -> str:
        concurrently = " CONCURRENTLY" if self.rng.random() < 0.5 else ""
        unique = "UNIQUE " if self.rng.random() < 0.2 else ""
        table = self.table()
        return (
            f"CREATE {unique}INDEX{concurrently} IF NOT EXISTS {self.name('ix_')}"
            f" ON {table} ({self.name('c_')}, created_at)"
        )

    def foreign_key(self) -> str:
        table, other = self.table(), self.table()
        not_valid = " NOT VALID" if self.rng.random() < 0.5 else ""
        return (
            f"ALTER TABLE {table} ADD CONSTRAINT {self.name('fk_')} FOREIGN KEY"
            f" ({other}_id) REFERENCES {other} (id){not_valid}"
        )

    def validate(self) -> str:
        return f"ALTER TABLE {self.table()} VALIDATE CONSTRAINT {self.name('fk_')}"

    def set_not_null(self) -> str:
        return f"ALTER TABLE {self.table()} ALTER COLUMN {self.name('c_')} SET NOT NULL"

    def alter_type(self) -> str:
        return f"ALTER TABLE {self.table()} ALTER COLUMN {self.name('c_')} TYPE bigint"

    def enum_type(self) -> str:
        values = ", ".join(f"'{w}'" for w in self.rng.sample(_WORDS, 4))
        return f"CREATE TYPE {self.name('status_')} AS ENUM ({values})"

    def enum_value(self) -> str:
        return f"ALTER TYPE {self.name('status_')} ADD VALUE IF NOT EXISTS 'archived'"

    def backfill(self) -> str:
        table = self.table()
        return (
            f"UPDATE {table} SET {self.name('c_')} = lower({self.name('c_')})"
            f" WHERE id BETWEEN {self.rng.randint(1, 10**6)} AND {self.rng.randint(10**6, 10**7)}"
        )

    def insert(self) -> str:
        rows = ", ".join(
            f"({i}, '{self.rng.choice(_WORDS)}')" for i in range(self.rng.randint(1, 5))
        )
        return f"INSERT INTO {self.table()} (id, name) VALUES {rows} ON CONFLICT DO NOTHING"

    def delete(self) -> str:
        return f"DELETE FROM {self.table()} WHERE created_at < now() - interval '90 days'"

    def rename(self) -> str:
        return f"ALTER TABLE {self.table()} RENAME COLUMN {self.name('c_')} TO {self.name('c_')}"

    def drop(self) -> str:
        choice = self.rng.random()
        if choice < 0.4:
            return f"DROP INDEX CONCURRENTLY IF EXISTS {self.name('ix_')}"
        if choice < 0.8:
            return f"ALTER TABLE {self.table()} DROP COLUMN IF EXISTS {self.name('c_')}"
        return f"DROP TABLE IF EXISTS {self.name('old_')}"

    def timeout(self) -> str:
        setting = self.rng.choice(("lock_timeout", "statement_timeout"))
        return f"SET {setting} = '{self.rng.choice(('2s', '5s', '1min', '0'))}'"

    def comment(self) -> str:
        return f"COMMENT ON TABLE {self.table()} IS 'Holds the {self.rng.choice(_WORDS)} rows'"

    def function(self) -> str:
        name = self.name("fn_")
        return (
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            "BEGIN\n    NEW.updated_at := now();\n    RETURN NEW;\nEND;\n$$"
        )

    def trigger(self) -> str:
        return (
            f"CREATE TRIGGER {self.name('tr_')} BEFORE UPDATE ON {self.table()}"
            f" FOR EACH ROW EXECUTE FUNCTION {self.name('fn_')}()"
        )

    def grant(self) -> str:
        return f"GRANT SELECT, INSERT, UPDATE ON {self.table()} TO app_user"


_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("create_table", 14),
    ("add_column", 16),
    ("create_index", 14),
    ("foreign_key", 6),
    ("validate", 3),
    ("set_not_null", 3),
    ("alter_type", 2),
    ("enum_type", 2),
    ("enum_value", 2),
    ("backfill", 6),
    ("insert", 6),
    ("delete", 2),
    ("rename", 2),
    ("drop", 6),
    ("timeout", 6),
    ("comment", 4),
    ("function", 2),
    ("trigger", 2),
    ("grant", 2),
)


def generate(folder: Path, statements: int, seed: int = 7) -> tuple[int, int]:
    """Write migration files holding `statements` statements in total under `folder`.

    Returns (files, statements). Files hold 1–25 statements (about 8 on average), some
    wrapped in an explicit BEGIN/COMMIT, with a header comment, like real migrations.
    """
    rng = random.Random(seed)
    mix = _Mix(rng)
    kinds = [name for name, _ in _WEIGHTS]
    weights = [weight for _, weight in _WEIGHTS]
    makers: dict[str, Callable[[], str]] = {name: getattr(mix, name) for name in kinds}
    folder.mkdir(parents=True, exist_ok=True)
    written = files = 0
    while written < statements:
        count = min(statements - written, max(1, int(rng.expovariate(1 / 8))), 25)
        body = [makers[kind]() for kind in rng.choices(kinds, weights, k=count)]
        wrapped = count > 2 and rng.random() < 0.25
        lines = [f"-- Migration {files + 1}: {rng.choice(_WORDS)} changes\n"]
        if wrapped:
            lines.append("BEGIN;\n")
        lines += [f"{statement};\n" for statement in body]
        if wrapped:
            lines.append("COMMIT;\n")
        files += 1
        path = folder / f"{files // 500:03d}" / f"V{files:06d}__{rng.choice(_WORDS)}.sql"
        path.parent.mkdir(exist_ok=True)
        path.write_text("".join(lines), encoding="utf-8")
        written += count + (2 if wrapped else 0)
    return files, written
