"""Pieces the planners share: reading the statement, naming, the table's key."""

from __future__ import annotations

from pglast import ast
from pglast.stream import RawStream

from zdlint.fix.plan import Unfixable
from zdlint.fix.sql_text import derived_name, quote_ident
from zdlint.sql.names import strings
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState


def deparse(node: ast.Node | None) -> str:
    """pglast's SQL for a node (identifiers quoted as needed)."""
    assert node is not None
    return str(RawStream()(node))


def relation_sql(rangevar: ast.RangeVar | None) -> str:
    """A table reference as SQL, without alias or ONLY."""
    assert rangevar is not None
    plain = ast.RangeVar(
        schemaname=rangevar.schemaname, relname=rangevar.relname, inh=True, relpersistence="p"
    )
    return deparse(plain)


_FK_ACTIONS = {"c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT", "r": "RESTRICT"}


def foreign_key_name(table: str, con: ast.Constraint, column: str = "") -> str:
    """The foreign key's name: as written, else the one PostgreSQL gives it
    (`table_col_fkey`; `column` is the one an inline REFERENCES is written on)."""
    return con.conname or derived_name(table, *(strings(con.fk_attrs) or [column]), "fkey")


def add_foreign_key_sql(
    relation: ast.RangeVar | None, name: str, columns: list[str], con: ast.Constraint
) -> str:
    """`ALTER TABLE … ADD CONSTRAINT name FOREIGN KEY (columns) REFERENCES …` for the
    foreign key `con` (written inline or as a table constraint), its actions kept."""
    keys = strings(con.pk_attrs)
    referenced = relation_sql(con.pktable)
    if keys:
        referenced += f" ({', '.join(map(quote_ident, keys))})"
    actions = "".join(
        f" ON {when} {_FK_ACTIONS[action]}"
        for when, action in (("DELETE", con.fk_del_action), ("UPDATE", con.fk_upd_action))
        if action in _FK_ACTIONS
    )
    if con.deferrable:
        actions += " DEFERRABLE" + (" INITIALLY DEFERRED" if con.initdeferred else "")
    return (
        f"ALTER TABLE {relation_sql(relation)} ADD CONSTRAINT {quote_ident(name)} "
        f"FOREIGN KEY ({', '.join(map(quote_ident, columns))}) REFERENCES {referenced}{actions}"
    )


def single_command(
    stmt: Statement, rule: str
) -> tuple[ast.AlterTableStmt, ast.AlterTableCmd] | Unfixable:
    """The one subcommand of an ALTER TABLE; several are not rewritten (split them first)."""
    node = stmt.node
    assert isinstance(node, ast.AlterTableStmt)
    cmds = node.cmds or ()
    if len(cmds) != 1:
        return Unfixable(
            rule, "the ALTER TABLE has several subcommands; split it into one statement each"
        )
    return node, cmds[0]


def primary_key(state: MigrationState, table: str) -> str | None:
    """The single-column primary key of `table`, when the schema model knows it."""
    found = state.schema.tables.get(table)
    if found is None:
        return None
    for constraint in found.constraints.values():
        if constraint.kind == "primary" and len(constraint.columns) == 1:
            return constraint.columns[0]
    return None


def is_batch_tool(state: MigrationState) -> bool:
    """The tool sends the file as one transaction (golang-migrate, Prisma, Diesel):
    nothing in it can COMMIT, so a procedure that commits per batch cannot run."""
    region = state.region
    return bool(region is not None and region.batch and region.wrapped)
