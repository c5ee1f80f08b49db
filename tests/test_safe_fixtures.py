"""fixtures/safe: for every SQL rule, the pattern its docs recommend, written as a user
would. Each file is linted alone (its tables exist already) with every rule selected,
the opt-in ones included, and must come out clean."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import lint
from zdlint.catalogue import load_catalogue

SAFE = Path(__file__).resolve().parent.parent / "fixtures" / "safe"
ENGINE_RULES = {"ZD001", "ZD002", "ZD003"}  # about the file itself, not a pattern
CATALOGUE = load_catalogue()
SQL_RULES = [r for r in CATALOGUE if r.language == "sql" and r.code not in ENGINE_RULES]
EVERY_RULE = tuple(r.code for r in CATALOGUE)


def _fixture(rule) -> Path:
    return SAFE / f"{rule.code}-{rule.name}.sql"


def test_every_sql_rule_has_exactly_one_safe_fixture_and_nothing_else_is_there():
    expected = {_fixture(r).name for r in SQL_RULES}
    present = {p.name for p in SAFE.glob("*.sql")}
    assert present == expected, (
        f"missing: {sorted(expected - present)}, unknown: {sorted(present - expected)}"
    )


@pytest.mark.parametrize("rule", SQL_RULES, ids=lambda r: r.code)
def test_the_recommended_pattern_is_clean(rule):
    path = _fixture(rule)
    text = path.read_text(encoding="utf-8")
    # A rule that only applies up to some version is checked where it applies.
    version = {"pg_version": rule.pg_max} if rule.pg_max is not None else {}
    findings = lint(text, path.name, select=EVERY_RULE, **version)
    assert findings == [], [f"{f.code} {f.span.line}: {f.message}" for f in findings]


@pytest.mark.parametrize("rule", SQL_RULES, ids=lambda r: r.code)
def test_the_safe_fixture_does_what_its_rule_is_about(rule):
    """Guard against an empty or unrelated file passing: each fixture is real SQL of
    more than a SET, parsed without error."""
    findings = lint(_fixture(rule).read_text(encoding="utf-8"), "x.sql", select=("ZD001",))
    assert findings == []
    statements = [
        line
        for line in _fixture(rule).read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith(("--", "SET "))
    ]
    assert statements, f"{rule.code}: the fixture holds no statement besides SET"


def test_the_folder_checked_as_one_migration_history_is_clean():
    """`zdlint check fixtures/safe` replays the files in order: names must not clash."""
    from zdlint.config import Settings
    from zdlint.lint import lint_paths

    run = lint_paths([str(SAFE)], Settings(select=EVERY_RULE), CATALOGUE)
    assert len(run.reports) == len(SQL_RULES)
    assert [f.code for r in run.reports for f in r.findings] == []
