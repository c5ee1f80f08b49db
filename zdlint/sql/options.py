"""Parenthesised statement options (`VACUUM (FULL false)`, `REINDEX (CONCURRENTLY)`).

PostgreSQL reads a boolean option with defGetBoolean: a bare name means true; the
integers 0 and 1 and the words true/false/on/off (any case) say which; anything else
makes the statement fail.
"""

from __future__ import annotations

from pglast import ast

_WORDS = {"true": True, "on": True, "false": False, "off": False}


def boolean_option(options: tuple | None, name: str) -> bool | None:  # type: ignore[type-arg]
    """The value of boolean option `name` (the last one written wins); None when absent
    or when its value is not a boolean (PostgreSQL rejects the statement then)."""
    value: bool | None = None
    for option in options or ():
        if isinstance(option, ast.DefElem) and option.defname == name:
            value = _boolean(option.arg)
    return value


def _boolean(arg: object) -> bool | None:
    if arg is None:
        return True
    if isinstance(arg, ast.Integer):
        return {0: False, 1: True}.get(arg.ival or 0)
    if isinstance(arg, ast.String):
        return _WORDS.get((arg.sval or "").lower())
    return None
