"""What a Python migration front end hands to the SQL engine."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RenderedStatement:
    """One SQL statement an operation of the migration runs."""

    sql: str  # the statement, without its trailing `;`
    line: int  # 1-based line of the operation (the call) in the .py file
    end_line: int  # last line of that operation
    transactional: bool  # it runs inside the migration's transaction


@dataclass
class RenderedMigration:
    """A migration module rendered for PostgreSQL, in the order its statements run."""

    statements: list[RenderedStatement] = field(default_factory=list)
    # The migration runs in one transaction (Django `atomic`, Alembic's transaction per
    # migration); statements with `transactional` False run outside it (Alembic's
    # `autocommit_block()`, Django's non-atomic migrations).
    atomic: bool = True
    # (line, message) of what could not be rendered without a database; each becomes a
    # finding on that line, never a silent gap.
    problems: list[tuple[int, str]] = field(default_factory=list)
    # Operations whose work the SQL does not show (data migrations), in order.
    opaque: list[OpaqueOperation] = field(default_factory=list)


@dataclass(frozen=True)
class OpaqueOperation:
    """An operation that runs code rather than SQL the linter can read (Django's
    `RunPython`): it runs after `statements[:position]`."""

    line: int
    end_line: int
    position: int
    transactional: bool  # it runs inside the migration's transaction
    kind: str  # what it is, as the migration writes it ("RunPython")
