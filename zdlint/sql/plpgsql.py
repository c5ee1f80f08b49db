"""The SQL statements inside PL/pgSQL bodies (DO blocks, procedures)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from pglast import ast, parse_plpgsql
from pglast import parser as pg_parser

from zdlint.sql.parse import parse_fast

# Statements whose body runs once per iteration.
_LOOPS = frozenset(
    {
        "PLpgSQL_stmt_loop",
        "PLpgSQL_stmt_while",
        "PLpgSQL_stmt_fori",
        "PLpgSQL_stmt_fors",
        "PLpgSQL_stmt_forc",
        "PLpgSQL_stmt_foreach_a",
        "PLpgSQL_stmt_dynfors",
    }
)
_VARIABLE_DATUMS = ("PLpgSQL_var", "PLpgSQL_rec", "PLpgSQL_row")


@dataclass(frozen=True)
class EmbeddedQuery:
    """One SQL statement of a PL/pgSQL body, with what the body tells about it."""

    node: ast.Node
    position: int  # offset of its text in the statement that holds the body
    variables: frozenset[str]  # PL/pgSQL variables and parameters it can refer to
    in_loop: bool  # it runs once per iteration of a loop
    text: str = ""  # its text as the body writes it; "" when not found there verbatim


@lru_cache(maxsize=256)
def _queries(statement_text: str) -> tuple[EmbeddedQuery, ...]:
    try:
        tree = parse_plpgsql(statement_text)
    except (pg_parser.ParseError, ValueError, TypeError):
        return ()
    found: list[EmbeddedQuery] = []
    search_from = 0
    variables = frozenset(_variables(tree))
    for text, in_loop in _execsql_texts(tree):
        try:
            raws = parse_fast(text)
        except pg_parser.ParseError:
            continue
        position = statement_text.find(text, search_from)
        if position >= 0:
            search_from = position + len(text)
        for raw in raws:
            if raw.stmt is not None:
                written = text if position >= 0 and len(raws) == 1 else ""
                found.append(EmbeddedQuery(raw.stmt, max(position, 0), variables, in_loop, written))
    return tuple(found)


def _variables(tree: object) -> Iterator[str]:
    for function in tree if isinstance(tree, list) else ():
        body = function.get("PLpgSQL_function", {}) if isinstance(function, dict) else {}
        for datum in body.get("datums", ()):
            for kind in _VARIABLE_DATUMS:
                name = datum.get(kind, {}).get("refname") if isinstance(datum, dict) else None
                if isinstance(name, str):
                    yield name


def _execsql_texts(tree: object) -> Iterator[tuple[str, bool]]:
    """(query text, inside a loop) of each plain SQL statement, in order."""
    stack: list[tuple[object, bool]] = [(tree, False)]
    while stack:
        item, in_loop = stack.pop()
        if isinstance(item, dict):
            execsql = item.get("PLpgSQL_stmt_execsql")
            if isinstance(execsql, dict):
                query = execsql.get("sqlstmt", {}).get("PLpgSQL_expr", {}).get("query")
                if isinstance(query, str):
                    yield query, in_loop
            stack.extend((value, in_loop or key in _LOOPS) for key, value in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend((value, in_loop) for value in reversed(item))


def embedded_queries(statement_text: str) -> Iterator[EmbeddedQuery]:
    """Each SQL statement a PL/pgSQL `DO` or `CREATE FUNCTION/PROCEDURE` runs; empty for
    other languages."""
    if not statement_text:
        return iter(())
    return iter(_queries(statement_text))
