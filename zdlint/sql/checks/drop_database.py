"""ZD311: DROP DATABASE in a migration."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast

from zdlint.findings import Hit
from zdlint.sql.identifiers import quote_ident
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState


def check(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    node = stmt.node
    assert isinstance(node, ast.DropdbStmt)
    force = any(isinstance(o, ast.DefElem) and o.defname == "force" for o in node.options or ())
    yield Hit(
        {
            "database": node.dbname or "",
            "database_sql": quote_ident(node.dbname or ""),
            "connected": (
                "terminates every session connected to it"
                if force
                else "fails while any session is connected to it"
            ),
        }
    )


CHECKS = [("ZD311", [ast.DropdbStmt], check)]
