"""SQL spellings of names: quoting, qualified names, the names PostgreSQL derives.

Light on purpose: checks use it for help text, so it imports nothing of `zdlint.fix`.
"""

from __future__ import annotations

import re

from pglast import ast
from pglast.keywords import COL_NAME_KEYWORDS, RESERVED_KEYWORDS, TYPE_FUNC_NAME_KEYWORDS

from zdlint.sql.default_names import constraint_name
from zdlint.sql.names import strings

_PLAIN = re.compile(r"^[a-z_][a-z0-9_$]*$")
_NOT_BARE = RESERVED_KEYWORDS | TYPE_FUNC_NAME_KEYWORDS | COL_NAME_KEYWORDS


def quote_ident(name: str) -> str:
    """`name` as SQL: bare when Postgres reads it back unchanged, else double-quoted."""
    if _PLAIN.match(name) and name not in _NOT_BARE:
        return name
    return '"' + name.replace('"', '""') + '"'


def quote_qualified(name: str) -> str:
    """A dotted display name (`schema.table`) as SQL, each part quoted as needed."""
    return ".".join(quote_ident(part) for part in name.split("."))


def relation_sql(rangevar: ast.RangeVar | None) -> str:
    """A table reference as SQL (`schema.table`, quoted as needed), without alias or ONLY."""
    assert rangevar is not None
    return ".".join(quote_ident(n) for n in (rangevar.schemaname, rangevar.relname) if n)


def foreign_key_name(table: str, con: ast.Constraint, column: str = "") -> str:
    """The foreign key's name: as written, else the one PostgreSQL gives it
    (`table_col_fkey`; `column` is the one an inline REFERENCES is written on)."""
    return con.conname or constraint_name(table, con, column)


_FK_ACTIONS = {"c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT", "r": "RESTRICT"}


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
