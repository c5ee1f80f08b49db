"""ZD101: SET NOT NULL scans the table under ACCESS EXCLUSIVE unless a CHECK proves it.

On PostgreSQL 18 `ADD CONSTRAINT … NOT NULL col` (without NOT VALID) scans the same way.
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType

from zdlint.findings import Hit
from zdlint.sql.checks._alter import sized_table_commands
from zdlint.sql.default_names import object_name
from zdlint.sql.identifiers import quote_ident, quote_qualified
from zdlint.sql.long_operations import CHECK_SKIPS_NOT_NULL_SCAN_FROM, set_not_null_scans
from zdlint.sql.names import strings
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState

# From PostgreSQL 12 a validated CHECK (col IS NOT NULL) lets SET NOT NULL skip its scan.
CHECK_SKIPS_SCAN_FROM = CHECK_SKIPS_NOT_NULL_SCAN_FROM


def _hit(
    table: str, display: str, columns: list[str], pg_version: int, cmd: ast.AlterTableCmd
) -> Hit:
    table_sql = quote_qualified(display)
    names = [object_name(table, column, "not_null") for column in columns]
    adds = ", ".join(
        f"ADD CONSTRAINT {quote_ident(name)} CHECK ({quote_ident(column)} IS NOT NULL) NOT VALID"
        for name, column in zip(names, columns, strict=True)
    )
    validates = ", ".join(f"VALIDATE CONSTRAINT {quote_ident(name)}" for name in names)
    if pg_version < CHECK_SKIPS_SCAN_FROM:
        note = (
            f"; before PostgreSQL {CHECK_SKIPS_SCAN_FROM} it scans even when a validated "
            "CHECK proves the column has no NULL"
        )
        then = (
            f"; before PostgreSQL {CHECK_SKIPS_SCAN_FROM} making a column NOT NULL always "
            "scans, so keep the validated CHECK in its place until you upgrade"
        )
    else:
        note = ""
        sets = ", ".join(f"ALTER COLUMN {quote_ident(column)} SET NOT NULL" for column in columns)
        then = (
            f", then `ALTER TABLE {table_sql} {sets};` "
            f"(no scan from PostgreSQL {CHECK_SKIPS_SCAN_FROM})"
        )
    named = [f"`{display}.{column}`" for column in columns]
    return Hit(
        {
            "table": display,
            "columns": _listed(named),
            "add": f"ALTER TABLE {table_sql} {adds};",
            "validate": f"ALTER TABLE {table_sql} {validates};",
            "them": "it" if len(columns) == 1 else "them",
            "note": note,
            "then": then,
        },
        part=cmd,
    )


def _listed(items: list[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _not_null_columns(cmd: ast.AlterTableCmd) -> list[str]:
    """Columns of `ADD CONSTRAINT c NOT NULL col` checked at once (PostgreSQL 18)."""
    con = cmd.def_
    if (
        isinstance(con, ast.Constraint)
        and con.contype == ConstrType.CONSTR_NOTNULL
        and not con.skip_validation
    ):
        return strings(con.keys)
    return []


def check(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    """One finding per statement: PostgreSQL verifies every column an ALTER TABLE makes
    NOT NULL in one scan of the table."""
    assert isinstance(stmt.node, ast.AlterTableStmt)
    scanned: list[str] = []
    first: tuple[str, str, ast.AlterTableCmd] | None = None
    for table, display, cmd in sized_table_commands(
        stmt.node, state, AlterTableType.AT_SetNotNull, AlterTableType.AT_AddConstraint
    ):
        columns = [cmd.name or ""] if cmd.subtype == AlterTableType.AT_SetNotNull else []
        for column in columns or _not_null_columns(cmd):
            known = state.schema.column(table, column)
            if known is not None and known.not_null:
                continue  # already NOT NULL: nothing to verify
            if set_not_null_scans(table, column, state):
                scanned.append(column)
                first = first or (table, display, cmd)
    if first is not None:
        yield _hit(first[0], first[1], scanned, state.pg_version, first[2])


CHECKS = [("ZD101", [AlterTableType.AT_SetNotNull, AlterTableType.AT_AddConstraint], check)]
