"""What a column definition (`ADD COLUMN c type …`) means for the rows already there."""

from __future__ import annotations

from pglast import ast
from pglast.enums import ConstrType

from zdlint.sql.names import type_name

SERIAL_TYPES = frozenset({"serial", "serial4", "bigserial", "serial8", "smallserial", "serial2"})
_FILLS_ITSELF = {ConstrType.CONSTR_DEFAULT, ConstrType.CONSTR_IDENTITY, ConstrType.CONSTR_GENERATED}


def not_null_without_value(column: ast.ColumnDef) -> bool:
    """NOT NULL (or PRIMARY KEY) with nothing to fill existing rows: no DEFAULT, identity,
    generated expression or serial type. Adding it succeeds only on an empty table."""
    kinds = {c.contype for c in column.constraints or () if isinstance(c, ast.Constraint)}
    not_null = (
        column.is_not_null
        or ConstrType.CONSTR_NOTNULL in kinds
        or ConstrType.CONSTR_PRIMARY in kinds
    )
    return (
        bool(not_null)
        and not kinds & _FILLS_ITSELF
        and type_name(column.typeName) not in SERIAL_TYPES
    )
