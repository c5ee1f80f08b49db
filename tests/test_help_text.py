"""Every rule's help, rendered for its bad examples, names real objects and holds only SQL
that runs: SQL goes in backticks as whole statements, which must parse; no SQL fragment
(`CREATE INDEX CONCURRENTLY` with no table) stands in the prose."""

from __future__ import annotations

import re

import pytest
from pglast import parse_sql
from pglast import parser as pg_parser

from tests.support import lint
from tests.test_catalogue_examples import CATALOGUE, _findings
from zdlint.versions import SUPPORTED_PG_VERSIONS

T = "SET lock_timeout = '3s';\n"

BAD = [
    pytest.param(rule, example, id=f"{rule.code}-bad{i}")
    for rule in CATALOGUE
    for i, example in enumerate(rule.bad_examples)
]
_QUOTED = re.compile(r"`([^`]*)`")
# Two or more SQL keywords in a row, the first one starting a statement or clause: SQL
# written into the prose instead of a whole statement in backticks.
_SQL_WORDS = (
    "CREATE|ALTER|DROP|REINDEX|VACUUM|UPDATE|DELETE|INSERT|REFRESH|CLUSTER|TRUNCATE|"
    "VALIDATE|ADD|SET|LOCK|BEGIN|COMMIT|DETACH|ATTACH|CALL"
)
_SQL_IN_PROSE = re.compile(rf"\b(?:{_SQL_WORDS})\s+(?:[A-Z][A-Z_]+\b|…|[a-z_]+\s*=)")


def sql_problems(text: str) -> list[str]:
    """What is wrong with the SQL in a help text (empty when nothing is)."""
    problems = []
    for quoted in _QUOTED.findall(text):
        try:
            if not parse_sql(quoted):
                problems.append(f"not a statement: {quoted!r}")
        except pg_parser.ParseError as exc:
            problems.append(f"does not parse: {quoted!r} ({exc})")
    prose = _QUOTED.sub(" ", text)
    problems += [f"SQL in the prose: {m.group(0)!r}" for m in _SQL_IN_PROSE.finditer(prose)]
    if "(unnamed)" in text:
        problems.append("names an object '(unnamed)'")
    return problems


def test_the_check_itself_catches_broken_help():
    assert sql_problems("Use `CREATE INDEX CONCURRENTLY ON t (a);` outside a transaction") == []
    assert sql_problems("Use CREATE INDEX CONCURRENTLY, outside any transaction")
    assert sql_problems("Run `VALIDATE CONSTRAINT c` later")
    assert sql_problems("Run `ALTER TABLE t VALIDATE CONSTRAINT (unnamed);`")
    assert sql_problems("Use REINDEX … CONCURRENTLY")
    assert sql_problems("Start with SET lock_timeout = '3s'")
    assert sql_problems("Use jsonb") == []


@pytest.mark.parametrize(("rule", "example"), BAD)
def test_help_for_a_bad_example_holds_only_sql_that_runs(rule, example, tmp_path):
    findings = [f for f in _findings(rule, example, tmp_path) if f.code == rule.code]
    assert findings
    for finding in findings:
        if rule.language == "sql":
            assert sql_problems(finding.help) == [], finding.help
        assert "(unnamed)" not in finding.help + finding.message, finding


@pytest.mark.parametrize(
    ("sql", "code", "named"),
    [
        (
            'ALTER TABLE "Orders" ADD CHECK ("totalCents" > 0);',
            "ZD104",
            '"Orders_totalCents_check"',
        ),
        (
            'ALTER TABLE "Orders" ADD FOREIGN KEY ("userId") REFERENCES users (id);',
            "ZD105",
            '"Orders_userId_fkey"',
        ),
        ('ALTER TABLE "Orders" ADD UNIQUE ("userId");', "ZD106", '"Orders_userId_key"'),
        ('CREATE INDEX ON "Orders" ("userId");', "ZD102", 'CONCURRENTLY ON "Orders" ("userId");'),
        (
            'CREATE INDEX CONCURRENTLY IF NOT EXISTS "Orders_a" ON "Orders" (a);',
            "ZD111",
            'CREATE INDEX CONCURRENTLY "Orders_a" ON "Orders" (a);',
        ),
        (
            "ALTER TABLE public.orders ALTER COLUMN note SET NOT NULL;",
            "ZD101",
            "orders_note_not_null",
        ),
        (
            "REINDEX (CONCURRENTLY false) TABLE orders;",
            "ZD110",
            "REINDEX TABLE CONCURRENTLY orders",
        ),
    ],
)
def test_unnamed_and_mixed_case_objects_get_help_that_runs(sql, code, named):
    findings = [f for f in lint(T + sql) if f.code == code]
    (finding,) = findings
    assert named in finding.help
    assert sql_problems(finding.help) == []
    assert _QUOTED.findall(finding.help)


@pytest.mark.parametrize("version", list(SUPPORTED_PG_VERSIONS))
def test_the_sql_help_recommends_exists_on_every_target_version(version):
    """Lint each bad example as if for `version`; the SQL its help recommends must use
    nothing that version lacks (ZD207 knows what each version lacks)."""
    for rule in CATALOGUE:
        if rule.language != "sql" or rule.code == "ZD207":
            continue
        for example in rule.bad_examples:
            settings = dict(example.options)
            findings = lint(example.source, "example.sql", pg_version=version, **settings)
            for finding in findings:
                for sql in _QUOTED.findall(finding.help):
                    advised = [f.code for f in lint(sql, "advice.sql", pg_version=version)]
                    assert "ZD207" not in advised, (rule.code, version, sql)
