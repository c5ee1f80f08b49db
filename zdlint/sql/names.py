"""Reading names and values out of pglast nodes."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast

MAX_IDENTIFIER = 63  # bytes: PostgreSQL cuts longer names


def relation_name(rangevar: ast.RangeVar | None) -> str:
    """The table name as Postgres folds it, without schema (matching ignores schemas)."""
    if rangevar is None:
        return ""
    return rangevar.relname or ""


def is_temporary(rangevar: ast.RangeVar | None) -> bool:
    """A TEMP relation: private to the session that creates it, so it replaces nothing
    other sessions use."""
    return rangevar is not None and rangevar.relpersistence == "t"


def qualified_name(rangevar: ast.RangeVar | None) -> str:
    """`schema.table` when a schema is written, else `table`: for messages."""
    if rangevar is None:
        return ""
    if rangevar.schemaname:
        return f"{rangevar.schemaname}.{rangevar.relname}"
    return rangevar.relname or ""


def strings(items: tuple | None) -> list[str]:  # type: ignore[type-arg]
    """The values of a tuple of `String` nodes (qualified names, column lists)."""
    return [item.sval or "" for item in items or () if isinstance(item, ast.String)]


def last_name(items: tuple | None) -> str:  # type: ignore[type-arg]
    names = strings(items)
    return names[-1] if names else ""


def type_name(type_node: ast.TypeName | None) -> str:
    """A type's base name without the pg_catalog prefix: `varchar`, `int8`, `text`."""
    if type_node is None:
        return ""
    names = [n for n in strings(type_node.names) if n != "pg_catalog"]
    return names[-1] if names else ""  # quoted names keep their case


def type_modifiers(type_node: ast.TypeName | None) -> list[int]:
    if type_node is None:
        return []
    values = []
    for mod in type_node.typmods or ():
        val = getattr(mod, "val", None)
        if isinstance(val, ast.Integer) and val.ival is not None:
            values.append(val.ival)
    return values


def walk(node: object) -> Iterator[ast.Node]:
    """Every pglast node below `node`, depth first, including `node` itself."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, ast.Node):
            yield current
            for attr in current.__slots__:  # type: ignore[attr-defined]
                value = getattr(current, attr, None)
                if isinstance(value, (ast.Node, tuple)):
                    stack.append(value)
        elif isinstance(current, tuple):
            stack.extend(reversed(current))


def function_names(expr: object) -> set[str]:
    """Names (without schema, lower case) of every function called in an expression."""
    return {
        last_name(node.funcname).lower() for node in walk(expr) if isinstance(node, ast.FuncCall)
    }


def const_string(node: object) -> str | None:
    """The text of a constant (string, integer or float) as SET would read it."""
    if isinstance(node, ast.A_Const) and not node.isnull:
        val = node.val
        if isinstance(val, ast.String):
            return val.sval
        if isinstance(val, ast.Integer):
            return str(val.ival)
        if isinstance(val, ast.Float):
            return val.fval
    return None


def derived_name(*parts: str) -> str:
    """An identifier built from parts, cut to Postgres's 63-byte limit."""
    name = "_".join(p for p in parts if p)
    while len(name.encode("utf-8")) > MAX_IDENTIFIER:
        name = name[:-1]
    return name


def quote_literal(text: str) -> str:
    """`text` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"
