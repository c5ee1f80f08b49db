"""Write zdlint/sql/pg_casts.txt: the implicit and assignment casts between built-in types.

    python scripts/generate_assignment_casts.py [BINDIR]

Starts a throwaway server (by default the one zdlint finds; PostgreSQL 15 here), reads
every built-in type of pg_type and the pg_cast rows with castcontext 'i' or 'a' between
them, and writes one line per type: its pg_type.typname, then the types its values are
assigned to. tests/test_assignment_casts.py checks the file against a real server.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg  # noqa: E402

from zdlint.pg.binaries import _probe, find_binaries  # noqa: E402
from zdlint.pg.server import start_server  # noqa: E402
from zdlint.sql.casts import (  # noqa: E402
    CASTS_QUERY,
    DATA_FILE,
    SKIPPED_TYPES,
    TYPES_QUERY,
    format_facts,
)

HEADER = (
    "pg_cast rows with castcontext 'i' or 'a' between built-in types (pg_type.typname: "
    "source, then its targets), PostgreSQL {}: scripts/generate_assignment_casts.py"
)


def main(argv: list[str]) -> int:
    if argv:
        found, problem = _probe(Path(argv[0]), "command line")
        if found is None:
            print(f"{argv[0]}: {problem}", file=sys.stderr)
            return 2
    else:
        found = find_binaries()
    with start_server(found) as server, psycopg.connect(server.dsn()) as conn:
        facts: dict[str, set[str]] = {
            name: set() for (name,) in conn.execute(TYPES_QUERY) if name not in SKIPPED_TYPES
        }
        for source, target in conn.execute(CASTS_QUERY):
            if source in facts and target in facts:
                facts[source].add(target)
    DATA_FILE.write_text(format_facts(facts, HEADER.format(found.version)), encoding="utf-8")
    print(f"{DATA_FILE}: {len(facts)} types from PostgreSQL {found.version}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
