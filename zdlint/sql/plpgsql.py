"""The SQL statements inside PL/pgSQL bodies (DO blocks, procedures)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from pglast import ast, parse_plpgsql
from pglast import parser as pg_parser

from zdlint.sql.parse import parse_fast


@lru_cache(maxsize=256)
def _queries(statement_text: str) -> tuple[tuple[ast.Node, int], ...]:
    try:
        tree = parse_plpgsql(statement_text)
    except (pg_parser.ParseError, ValueError, TypeError):
        return ()
    found: list[tuple[ast.Node, int]] = []
    search_from = 0
    for text in _execsql_texts(tree):
        try:
            raws = parse_fast(text)
        except pg_parser.ParseError:
            continue
        position = statement_text.find(text, search_from)
        if position >= 0:
            search_from = position + len(text)
        for raw in raws:
            if raw.stmt is not None:
                found.append((raw.stmt, max(position, 0)))
    return tuple(found)


def _execsql_texts(tree: object) -> Iterator[str]:
    stack = [tree]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            execsql = item.get("PLpgSQL_stmt_execsql")
            if isinstance(execsql, dict):
                query = execsql.get("sqlstmt", {}).get("PLpgSQL_expr", {}).get("query")
                if isinstance(query, str):
                    yield query
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))


def embedded_queries(statement_text: str) -> Iterator[tuple[ast.Node, int]]:
    """(parsed statement, offset of its text in `statement_text`) for each SQL statement
    a PL/pgSQL `DO` or `CREATE FUNCTION/PROCEDURE` runs; empty for other languages."""
    if not statement_text:
        return iter(())
    return iter(_queries(statement_text))
