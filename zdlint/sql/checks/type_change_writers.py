"""ZD312: ALTER COLUMN TYPE to a type the running version's values cannot be assigned to.

An INSERT or UPDATE converts what it writes to the column's type by an implicit or an
assignment cast only. When PostgreSQL has neither from the column's current type to the
new one (timestamp -> boolean, text -> jsonb, boolean -> an enum), the running version,
which still sends values of the old type, fails on every write of the column from COMMIT
on. Judged only when both types are known: the current one from the schema model, both
built in (or an enum of the model). An enum replaced by another enum is ZD306's business
(the labels the new one lacks); the rename swap Prisma writes for it is not this hazard.
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType

from zdlint.findings import Hit
from zdlint.sql.casts import assignable, is_builtin
from zdlint.sql.checks._alter import existing_table_commands
from zdlint.sql.checks.alter_column_type import display_type_of
from zdlint.sql.checks.drop_column import replacement
from zdlint.sql.parse import Statement
from zdlint.sql.schema import ColumnType, column_type
from zdlint.sql.state import MigrationState


def breaks_writers(old: ColumnType, new: ColumnType, enums: set[str] | frozenset[str]) -> bool:
    """True when values of `old` cannot be written to a column of type `new`; False when
    they can, or when either type is neither built in nor an enum (a domain, an
    extension's type: its casts are not known)."""
    if old.name == new.name and old.array == new.array:
        return False  # a typmod change: ZD202's business
    old_enum, new_enum = old.name in enums, new.name in enums
    if old_enum and new_enum:
        return False  # enum -> enum: ZD306's business
    if not (old_enum or is_builtin(old.name)) or not (new_enum or is_builtin(new.name)):
        return False
    # an enum has no casts of its own but the I/O conversion to a string type
    return new_enum or not assignable(old, new)


def check(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    node = stmt.node
    assert isinstance(node, ast.AlterTableStmt)
    for table, display, cmd in existing_table_commands(
        node, state, AlterTableType.AT_AlterColumnType, AlterTableType.AT_DropColumn
    ):
        name = cmd.name or ""
        known = state.schema.column(table, name)
        if known is None or (table, name) in state.added_columns:
            continue  # the running version does not write a column it does not know
        if cmd.subtype == AlterTableType.AT_DropColumn:
            # dropped and replaced under its name in the same transaction by a column of
            # another type: to the running version, a type change (see drop_column)
            new = replacement(node, name, state)
        elif isinstance(cmd.def_, ast.ColumnDef):
            new = column_type(cmd.def_.typeName)
        else:
            continue
        if new is not None and breaks_writers(known.type, new, set(state.schema.enums)):
            yield Hit(
                {
                    "table": display,
                    "column": name,
                    "old": display_type_of(known.type),
                    "new": display_type_of(new),
                },
                part=cmd,
            )


CHECKS = [("ZD312", [AlterTableType.AT_AlterColumnType, AlterTableType.AT_DropColumn], check)]
