"""Which ALTER COLUMN TYPE changes PostgreSQL makes without rewriting the table.

PostgreSQL skips the rewrite when the old type is binary-coercible to the new one and
no length/precision check can fail: varchar widening or dropping its limit, varchar <->
text, numeric precision increase at the same scale, timestamp <-> timestamptz when the
session TimeZone is UTC (from PostgreSQL 12; before, always a rewrite), cidr -> inet,
varbit widening.
"""

from __future__ import annotations

from pglast import ast

from zdlint.sql.names import strings, type_name
from zdlint.sql.schema import ColumnType, column_type

# PostgreSQL 12 relabels timestamp <-> timestamptz in place when the session is in UTC.
TIMESTAMP_RELABEL_IN_UTC_FROM = 12
_TIMESTAMPS = {("timestamp", "timestamptz"), ("timestamptz", "timestamp")}

_TEXTUAL = {"varchar", "text"}

# Targets that are no rewrite from their usual sources: varchar widening or dropping the
# limit, varchar <-> text, numeric precision increase, timestamp -> timestamptz (UTC,
# PostgreSQL 12+), cidr -> inet. Without the column's current type they get the benefit
# of the doubt.
BINARY_COMPATIBLE_TARGETS = frozenset({"text", "varchar", "citext", "numeric", "inet", "varbit"})


def alter_type_rewrites(
    old: ColumnType | None,
    name: str,
    column: ast.ColumnDef,
    timezone_utc: bool,
    pg_version: int,
) -> bool:
    """Does `ALTER COLUMN … TYPE <column.typeName> [USING …]` rewrite the table?

    Exact when the column's current type `old` is known (from the schema model);
    otherwise judged from the target type alone. A USING expression rewrites, unless it
    is the column itself (`USING col`, `USING col::new_type`).
    """
    if column.raw_default is not None and not _plain_using(column.raw_default, name, column):
        return True
    relabels_timestamps = timezone_utc and pg_version >= TIMESTAMP_RELABEL_IN_UTC_FROM
    if old is not None:
        return rewrites(old, column_type(column.typeName), relabels_timestamps)
    target = type_name(column.typeName)
    return target not in BINARY_COMPATIBLE_TARGETS and not (
        target == "timestamptz" and relabels_timestamps
    )


def _plain_using(using: ast.Node, name: str, column: ast.ColumnDef) -> bool:
    """`USING col` or `USING col::new_type`: the conversion PostgreSQL makes without USING."""
    source: ast.Node | None = using
    if isinstance(using, ast.TypeCast):
        if column_type(using.typeName) != column_type(column.typeName):
            return False
        source = using.arg
    return isinstance(source, ast.ColumnRef) and strings(source.fields)[-1:] == [name]


def rewrites(old: ColumnType, new: ColumnType, relabels_timestamps: bool) -> bool:
    """True when changing a column from `old` to `new` rewrites the table;
    `relabels_timestamps`: PostgreSQL 12+ with the session in UTC."""
    if old.array != new.array:
        return True
    if old.name == new.name:
        return not _widens(old, new)
    if old.name in _TEXTUAL and new.name in _TEXTUAL:
        # text -> varchar(n) must check every value: a rewrite; the rest is a relabel
        return new.name == "varchar" and bool(new.modifiers)
    if (old.name, new.name) in _TIMESTAMPS:
        return not relabels_timestamps or _narrows_precision(old, new)
    if (old.name, new.name) == ("cidr", "inet"):
        return False
    return True


def _widens(old: ColumnType, new: ColumnType) -> bool:
    """Same type: no rewrite when the new modifiers accept every old value."""
    if old.modifiers == new.modifiers or not new.modifiers:
        return True
    if not old.modifiers:
        return False  # adding a limit must check every row
    if old.name in ("varchar", "varbit", "bpchar"):
        return old.name != "bpchar" and new.modifiers[0] >= old.modifiers[0]
    if old.name == "numeric":
        old_scale = old.modifiers[1] if len(old.modifiers) > 1 else 0
        new_scale = new.modifiers[1] if len(new.modifiers) > 1 else 0
        return new_scale == old_scale and new.modifiers[0] >= old.modifiers[0]
    if old.name in ("timestamp", "timestamptz", "time", "timetz", "interval"):
        return not _narrows_precision(old, new)
    return False


def _narrows_precision(old: ColumnType, new: ColumnType) -> bool:
    old_p = old.modifiers[0] if old.modifiers else 6
    new_p = new.modifiers[0] if new.modifiers else 6
    return new_p < old_p
