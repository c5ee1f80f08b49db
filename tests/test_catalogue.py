"""The rule catalogue: every file valid, one check per rule, docs generated and current."""

from __future__ import annotations

import marshal
import os
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


@pytest.fixture
def small_rules(tmp_path, monkeypatch):
    """Two real rule files in a folder of their own, and a cache of their own."""
    folder = tmp_path / "rules"
    folder.mkdir()
    for name in ("ZD101-set-not-null-scan.toml", "ZD102-create-index-non-concurrently.toml"):
        (folder / name).write_bytes((rules_dir() / name).read_bytes())
    monkeypatch.setenv("ZDLINT_CACHE_DIR", str(tmp_path / "cache"))
    return folder


def compiled_copies(folder: Path) -> list[Path]:
    return sorted((folder.parent / "cache" / "catalogue").glob("*"))


def test_the_compiled_catalogue_equals_the_parsed_one(small_rules):
    parsed = load_catalogue.__wrapped__(small_rules)
    assert len(compiled_copies(small_rules)) == 1
    compiled = load_catalogue.__wrapped__(small_rules)
    assert compiled == parsed and compiled.fingerprint == parsed.fingerprint
    assert [r.file for r in compiled] == [r.file for r in parsed]


def test_a_rule_file_of_unchanged_size_and_time_is_not_read_again(small_rules):
    """As a .pyc is checked against its source: the compiled copy answers, unread."""
    summary = load_catalogue.__wrapped__(small_rules).get("ZD101").summary
    rule_file = small_rules / "ZD101-set-not-null-scan.toml"
    before = rule_file.stat()
    text = rule_file.read_text(encoding="utf-8")
    rule_file.write_text(text.replace(summary, "X" + summary[1:]), encoding="utf-8")
    os.utime(rule_file, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert load_catalogue.__wrapped__(small_rules).get("ZD101").summary == summary


def test_editing_a_rule_file_outdates_the_compiled_copy(small_rules):
    load_catalogue.__wrapped__(small_rules)
    rule_file = small_rules / "ZD101-set-not-null-scan.toml"
    text = rule_file.read_text(encoding="utf-8")
    rule_file.write_text(text.replace('summary = "', 'summary = "Edited: ', 1), encoding="utf-8")
    assert load_catalogue.__wrapped__(small_rules).get("ZD101").summary.startswith("Edited: ")


def test_adding_a_rule_file_outdates_the_compiled_copy(small_rules):
    load_catalogue.__wrapped__(small_rules)
    name = "ZD103-drop-index-non-concurrently.toml"
    (small_rules / name).write_bytes((rules_dir() / name).read_bytes())
    assert load_catalogue.__wrapped__(small_rules).get("ZD103") is not None


def test_a_deleted_compiled_copy_is_made_again(small_rules):
    parsed = load_catalogue.__wrapped__(small_rules)
    for copy in compiled_copies(small_rules):
        copy.unlink()
    assert load_catalogue.__wrapped__(small_rules) == parsed
    assert len(compiled_copies(small_rules)) == 1


@pytest.mark.parametrize("junk", [b"", b"\x00not marshal", marshal.dumps((1, 2)), marshal.dumps(7)])
def test_a_corrupt_compiled_copy_is_ignored_and_replaced(small_rules, junk):
    parsed = load_catalogue.__wrapped__(small_rules)
    (copy,) = compiled_copies(small_rules)
    copy.write_bytes(junk)
    assert load_catalogue.__wrapped__(small_rules) == parsed
    assert copy.read_bytes() != junk


def test_a_cache_that_cannot_be_written_does_not_stop_loading(small_rules, monkeypatch):
    blocker = small_rules.parent / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("ZDLINT_CACHE_DIR", str(blocker / "cache"))
    assert load_catalogue.__wrapped__(small_rules).get("ZD102") is not None
