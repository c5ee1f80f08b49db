"""The rule catalogue: every file valid, one check per rule, docs generated and current."""

from __future__ import annotations

from pathlib import Path

import pytest

from zdlint.catalogue import CatalogueError, load_catalogue, load_rule, rules_dir
from zdlint.docs import DOCS_DIR, expected_pages
from zdlint.sql.checks import all_checks

ENGINE_RULES = {"ZD001", "ZD002", "ZD003"}  # produced by the engine itself, not a check


def test_every_rule_file_loads_and_codes_and_names_are_unique():
    catalogue = load_catalogue()
    assert len(catalogue) == len(list(rules_dir().glob("*.toml")))
    assert len({r.code for r in catalogue}) == len({r.name for r in catalogue}) == len(catalogue)


def test_every_sql_rule_has_exactly_one_check_and_every_check_a_rule():
    catalogue = load_catalogue()
    sql_rules = {r.code for r in catalogue if r.language == "sql"} - ENGINE_RULES
    check_rules = [c.rule for c in all_checks()]
    assert sorted(check_rules) == sorted(set(check_rules)), "a rule has two checks"
    assert set(check_rules) == sql_rules


def test_rules_are_found_by_code_or_name_in_any_case():
    catalogue = load_catalogue()
    assert catalogue.get("zd101") is catalogue.get("set-not-null-scan") is not None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.replace('severity = "error"', 'severity = "fatal"'), "severity"),
        (lambda t: t.replace('code = "ZD101"', 'code = "X1"'), "code"),
        (lambda t: "bogus = 1\n" + t, "unknown key bogus"),
        (lambda t: t.replace('lock = "AccessExclusiveLock"', 'lock = "Huge"'), "claim.lock"),
        (lambda t: t.split("[[bad]]")[0] + "[[good]]\nsql = 'SELECT 1'\n", "[[bad]]"),
        (lambda t: t.replace('summary = "', 'summaryx = "'), "summary"),
    ],
)
def test_the_loader_rejects_malformed_rule_files_naming_the_problem(tmp_path, change, message):
    original = (rules_dir() / "ZD101-set-not-null-scan.toml").read_text(encoding="utf-8")
    broken = tmp_path / "ZD101-set-not-null-scan.toml"
    broken.write_text(change(original), encoding="utf-8")
    if 'code = "X1"' in broken.read_text():
        broken = broken.rename(tmp_path / "X1-set-not-null-scan.toml")
    with pytest.raises(CatalogueError) as excinfo:
        load_rule(broken)
    assert message in str(excinfo.value)
    assert str(broken) in str(excinfo.value)


def test_duplicate_codes_are_rejected(tmp_path):
    source = rules_dir() / "ZD101-set-not-null-scan.toml"
    (tmp_path / "ZD101-set-not-null-scan.toml").write_text(source.read_text())
    (tmp_path / "ZD101-other-name.toml").write_text(
        source.read_text().replace('name = "set-not-null-scan"', 'name = "other-name"')
    )
    with pytest.raises(CatalogueError, match="already used"):
        load_catalogue.__wrapped__(tmp_path)


def test_generated_rule_docs_are_current():
    """Run `python -m zdlint.docs` after editing rules/*.toml."""
    expected = expected_pages(load_catalogue())
    actual = {p.name: p.read_text(encoding="utf-8") for p in Path(DOCS_DIR).glob("*.md")}
    stale = sorted(name for name in expected if actual.get(name) != expected[name])
    extra = sorted(set(actual) - set(expected))
    assert not stale and not extra, f"stale: {stale}, not in the catalogue: {extra}"


def test_each_rule_page_has_the_ruff_sections():
    for name, text in expected_pages(load_catalogue()).items():
        if name == "README.md":
            continue
        for section in ("## What it does", "## Why is this bad?", "## Example", "## Use instead"):
            assert section in text, f"{name} lacks {section}"
