"""How volatile a function call is: built-ins from pg_proc, user functions from the schema.

A column DEFAULT that calls a VOLATILE function must be computed for every existing row,
so ADD COLUMN rewrites the table; IMMUTABLE and STABLE ones (`now()`,
`statement_timestamp()`, `current_setting()`) are evaluated once. The built-in facts are
`pg_proc.provolatile` of the `pg_catalog` functions of real servers, generated into
`pg_functions.txt` by scripts/generate_function_volatility.py. A function neither built
in nor created by an earlier migration (an extension's, or one created elsewhere) is
taken as VOLATILE, PostgreSQL's own default for CREATE FUNCTION.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

from pglast import ast

from zdlint.sql.names import strings, walk

DATA_FILE = Path(__file__).with_name("pg_functions.txt")
IMMUTABLE, STABLE, VOLATILE = "i", "s", "v"
_WORDS = {"immutable": IMMUTABLE, "stable": STABLE, "volatile": VOLATILE}
_BUILTIN_SCHEMA = "pg_catalog"


def parse_facts(text: str) -> dict[str, str]:
    """`name letters` lines (letters: the provolatile values of the name's overloads)."""
    facts: dict[str, str] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, letters = line.split(" ")
            facts[name] = letters
    return facts


def format_facts(facts: Mapping[str, Iterable[str]], header: str) -> str:
    lines = [f"# {header}"]
    lines += [f"{name} {''.join(sorted(set(letters)))}" for name, letters in sorted(facts.items())]
    return "\n".join(lines) + "\n"


@lru_cache(maxsize=1)
def builtin_volatility() -> dict[str, str]:
    """Built-in function name -> the provolatile letters of its overloads."""
    return parse_facts(DATA_FILE.read_text(encoding="utf-8"))


def volatility_word(options: tuple | None) -> str | None:  # type: ignore[type-arg]
    """The IMMUTABLE/STABLE/VOLATILE marker among CREATE/ALTER FUNCTION options."""
    for option in options or ():
        if isinstance(option, ast.DefElem) and option.defname == "volatility":
            if isinstance(option.arg, ast.String):
                return _WORDS.get((option.arg.sval or "").lower())
    return None


def call_volatility(call: ast.FuncCall, user_functions: Mapping[str, str]) -> str:
    """The volatility of one call: unqualified names resolve in pg_catalog first (it is
    searched before any schema on the search_path), then among the user's functions."""
    names = strings(call.funcname)  # unquoted names are folded to lower case already
    name = names[-1] if names else ""
    schema = names[0] if len(names) > 1 else None
    builtin = builtin_volatility().get(name) if schema in (None, _BUILTIN_SCHEMA) else None
    if builtin is not None:
        # overloads can differ (to_timestamp(text, text) is stable, to_timestamp(float8)
        # immutable); without argument types, the least volatile one is taken
        return min(builtin, key=_ORDER.index)
    return user_functions.get(name, VOLATILE)


_ORDER = (IMMUTABLE, STABLE, VOLATILE)


def volatile_calls(expr: object, user_functions: Mapping[str, str]) -> list[str]:
    """Names of the VOLATILE functions an expression calls, in order of appearance."""
    found: list[str] = []
    for node in walk(expr):
        if isinstance(node, ast.FuncCall) and call_volatility(node, user_functions) == VOLATILE:
            name = strings(node.funcname)[-1]
            if name not in found:
                found.append(name)
    return found
