"""ADD COLUMN of a serial type (ZD201): every existing row gets its value from the
sequence during a rewrite under ACCESS EXCLUSIVE. Instead: the sequence, the column
without a default (instant), the column's sequence default for new rows, the existing
rows filled from the sequence in batches, then NOT NULL through a validated CHECK. The
result is what serial makes: an owned sequence, its nextval() default, NOT NULL.

Identity columns are refused: an identity cannot be added to a column that already holds
values without choosing where its sequence starts. Other volatile defaults go to the
planner in `defaults`.
"""

from __future__ import annotations

from pglast.enums import ConstrType

from zdlint.findings import Hit
from zdlint.fix.plan import FixOptions, Plan, Unfixable
from zdlint.fix.planners._common import relation_sql, single_new_column
from zdlint.fix.planners.defaults import add_column_volatile_default, add_then_fill
from zdlint.fix.sql_text import quote_ident
from zdlint.sql.default_names import object_name
from zdlint.sql.names import quote_literal, relation_name, type_name
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState

# serial type -> the integer type of the column and of its sequence
SERIAL_TYPES = {
    "smallserial": "smallint",
    "serial2": "smallint",
    "serial": "integer",
    "serial4": "integer",
    "bigserial": "bigint",
    "serial8": "bigint",
}
_KEPT = {ConstrType.CONSTR_NOTNULL, ConstrType.CONSTR_NULL}


def add_serial_column(
    stmt: Statement, state: MigrationState, hit: Hit, options: FixOptions
) -> Plan | Unfixable:
    rule = "ZD201"
    found = single_new_column(stmt, rule)
    if isinstance(found, Unfixable):
        return found
    node, column, constraints = found
    if any(c.contype == ConstrType.CONSTR_IDENTITY for c in constraints):
        return Unfixable(
            rule,
            "an identity column is not rewritten: add a plain column, fill it from a sequence,"
            " then ADD GENERATED … AS IDENTITY (START WITH past the highest value)",
        )
    integer = SERIAL_TYPES.get(type_name(column.typeName))
    if integer is None:
        return add_column_volatile_default(stmt, state, hit, options)
    if any(c.contype not in _KEPT for c in constraints) or column.collClause is not None:
        return Unfixable(
            rule, "the serial column has constraints; add them after the backfill, one by one"
        )
    table, name = relation_sql(node.relation), relation_name(node.relation)
    colname = column.colname or ""
    schema = node.relation.schemaname if node.relation else None
    sequence_name = object_name(name, colname, "seq")
    sequence = ".".join(quote_ident(n) for n in (schema, sequence_name) if n)
    default = f"nextval({quote_literal(sequence)}::regclass)"
    ctx = dict(
        table=table,
        column=quote_ident(colname),
        type=integer,
        default=default,
        sequence=sequence,
    )
    # serial means NOT NULL
    return add_then_fill(
        rule,
        state,
        options,
        ctx,
        name,
        colname,
        default,
        True,
        before=("create_sequence",),
        after_add=("own_sequence",),
    )


PLANNERS = {"ZD201": add_serial_column}
