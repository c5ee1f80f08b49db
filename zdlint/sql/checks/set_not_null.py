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


def _hit(table: str, display: str, column: str, pg_version: int, cmd: ast.AlterTableCmd) -> Hit:
    table_sql, column_sql = quote_qualified(display), quote_ident(column)
    if pg_version < CHECK_SKIPS_SCAN_FROM:
        note = (
            f"; before PostgreSQL {CHECK_SKIPS_SCAN_FROM} it scans even when a validated "
            "CHECK proves the column has no NULL"
        )
        then = (
            f"; before PostgreSQL {CHECK_SKIPS_SCAN_FROM} making the column NOT NULL always "
            "scans, so keep the validated CHECK in its place until you upgrade"
        )
    else:
        note = ""
        then = (
            f", then `ALTER TABLE {table_sql} ALTER COLUMN {column_sql} SET NOT NULL;` "
            f"(no scan from PostgreSQL {CHECK_SKIPS_SCAN_FROM})"
        )
    check = object_name(table, column, "not_null")
    fields: dict[str, object] = {
        "table": display,
        "column": column,
        "note": note,
        "then": then,
        "check": check,
    }
    return Hit(fields, part=cmd)


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
    assert isinstance(stmt.node, ast.AlterTableStmt)
    for table, display, cmd in sized_table_commands(
        stmt.node, state, AlterTableType.AT_SetNotNull, AlterTableType.AT_AddConstraint
    ):
        columns = [cmd.name or ""] if cmd.subtype == AlterTableType.AT_SetNotNull else []
        for column in columns or _not_null_columns(cmd):
            known = state.schema.column(table, column)
            if known is not None and known.not_null:
                continue  # already NOT NULL: nothing to verify
            if set_not_null_scans(table, column, state):
                yield _hit(table, display, column, state.pg_version, cmd)


CHECKS = [("ZD101", [AlterTableType.AT_SetNotNull, AlterTableType.AT_AddConstraint], check)]
