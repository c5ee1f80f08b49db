"""Which built-in types PostgreSQL assigns to which: the implicit and assignment casts.

An INSERT or UPDATE converts the value it writes to the column's type with an implicit
or an assignment cast only (`pg_cast.castcontext` 'i' or 'a'); a value of a type with
neither is an error ("column is of type boolean but expression is of type timestamp").
The facts are those casts between the built-in types of a real server, generated into
`pg_casts.txt` by scripts/generate_assignment_casts.py, with the types named by
`pg_type.typname` as the schema model names them (int4, timestamptz, varchar…). Casts
to a string type need no pg_cast row: PostgreSQL's automatic I/O conversion to text,
varchar and bpchar is an assignment cast from every type.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

from zdlint.sql.schema import ColumnType

DATA_FILE = Path(__file__).with_name("pg_casts.txt")
# Targets every type is assigned to by I/O conversion; citext (an extension) takes
# text's casts.
STRING_TYPES = frozenset({"text", "varchar", "bpchar", "citext", "name"})
# The built-in type PostgreSQL names "char" (one byte) is spelled like bpchar's alias in
# the schema model, so it is left out of the facts.
SKIPPED_TYPES = frozenset({"char"})
# The built-in types (base, range and multirange, arrays left out: a column's array
# flag is apart from its type name) and their implicit and assignment casts.
TYPES_QUERY = (
    "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
    " WHERE n.nspname = 'pg_catalog' AND t.typtype IN ('b', 'r', 'm') AND t.typcategory <> 'A'"
)
CASTS_QUERY = (
    "SELECT s.typname, t.typname FROM pg_cast c"
    " JOIN pg_type s ON s.oid = c.castsource JOIN pg_namespace sn ON sn.oid = s.typnamespace"
    " JOIN pg_type t ON t.oid = c.casttarget JOIN pg_namespace tn ON tn.oid = t.typnamespace"
    " WHERE c.castcontext IN ('i', 'a') AND sn.nspname = 'pg_catalog'"
    " AND tn.nspname = 'pg_catalog' AND c.castsource <> c.casttarget"
)


def parse_facts(text: str) -> dict[str, frozenset[str]]:
    """`source target…` lines: each built-in type and the types it is assigned to."""
    facts: dict[str, frozenset[str]] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            source, *targets = line.split(" ")
            facts[source] = frozenset(targets)
    return facts


def format_facts(facts: Mapping[str, Iterable[str]], header: str) -> str:
    lines = [f"# {header}"]
    lines += [" ".join([name, *sorted(set(targets))]) for name, targets in sorted(facts.items())]
    return "\n".join(lines) + "\n"


@lru_cache(maxsize=1)
def assignment_casts() -> dict[str, frozenset[str]]:
    """Built-in type -> the built-in types its values are assigned to without a cast."""
    return parse_facts(DATA_FILE.read_text(encoding="utf-8"))


def is_builtin(name: str) -> bool:
    return name in assignment_casts() or name in STRING_TYPES


def assignable(old: ColumnType, new: ColumnType) -> bool:
    """Can a value of built-in type `old` be written to a column of built-in type `new`?
    Arrays convert element by element, and only to arrays (or to a string type)."""
    if new.name in STRING_TYPES and not new.array:
        return True
    if old.array != new.array:
        return False
    if old.name == new.name:
        return True
    source = "text" if old.name == "citext" else old.name
    return new.name in assignment_casts().get(source, frozenset())
