"""Several findings on one statement: each at its own place, none said twice, the most
specific first."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import lint
from zdlint.catalogue import CatalogueError, load_catalogue, rule_from_table
from zdlint.catalogue import _check_relations as check_relations
from zdlint.source import SourceText
from zdlint.sql.command_spans import command_spans
from zdlint.sql.parse import parse_statements

T = "SET lock_timeout = '3s';\n"


def _pieces(sql: str) -> list[str] | None:
    (stmt,) = parse_statements(SourceText(sql))
    spans = command_spans(stmt)
    return None if spans is None else [sql[a:b] for a, b in spans]


def test_command_spans_cut_at_top_level_commas_after_the_table_name():
    sql = (
        'ALTER TABLE ONLY "é"."T" DROP COLUMN a, -- a comment, with a comma\n'
        "  ADD COLUMN b numeric(10, 2) DEFAULT ARRAY[1, 2],\n"
        "  ALTER COLUMN c TYPE int USING (c::int)"
    )
    assert _pieces(sql) == [
        "DROP COLUMN a",
        "ADD COLUMN b numeric(10, 2) DEFAULT ARRAY[1, 2]",
        "ALTER COLUMN c TYPE int USING (c::int)",
    ]


def test_command_spans_skip_if_exists_and_descendants_marker():
    sql = "ALTER TABLE IF EXISTS s.t * ADD CHECK (a IN (1, 2)) NOT VALID, VALIDATE CONSTRAINT y"
    assert _pieces(sql) == ["ADD CHECK (a IN (1, 2)) NOT VALID", "VALIDATE CONSTRAINT y"]


def test_command_spans_are_none_for_other_statements():
    assert _pieces("CREATE INDEX i ON t (a, b)") is None


def test_each_dropped_column_is_reported_on_its_own_subcommand():
    sql = T + "ALTER TABLE t\n  DROP COLUMN a,\n  DROP COLUMN b;\n"
    findings = lint(sql)
    assert [(f.code, f.span.line, f.span.column, f.span.end_column) for f in findings] == [
        ("ZD304", 3, 3, 16),
        ("ZD304", 4, 3, 16),
    ]
    assert "`t.a`" in findings[0].message and "`t.b`" in findings[1].message


def test_no_rule_reports_one_place_twice_in_an_alter_table_with_many_subcommands():
    sql = T + (
        "ALTER TABLE t ALTER COLUMN a SET NOT NULL, ALTER COLUMN b SET NOT NULL,\n"
        "  DROP COLUMN c, DROP COLUMN d,\n"
        "  ADD COLUMN e int NOT NULL, ADD COLUMN f int NOT NULL,\n"
        "  ADD CONSTRAINT g FOREIGN KEY (a) REFERENCES u,\n"
        "  ADD CONSTRAINT h FOREIGN KEY (b) REFERENCES u;\n"
    )
    findings = lint(sql)
    places = [(f.code, f.span) for f in findings]
    assert sorted(f.code for f in findings) == [
        "ZD101",  # both columns are verified in one scan: one finding names them both
        *["ZD105"] * 2,
        *["ZD301"] * 2,
        *["ZD304"] * 2,
    ]
    assert len(set(places)) == len(places)


def test_a_single_subcommand_keeps_the_statement_span():
    (finding,) = lint(T + "ALTER TABLE t\n  DROP COLUMN a;\n")
    assert (finding.span.line, finding.span.column, finding.span.end_line) == (2, 1, 3)


def test_the_statements_own_hazards_come_before_what_its_transaction_adds():
    # ZD401 spans the whole statement, so by position alone it would come first.
    sql = "ALTER TABLE t\n  DROP COLUMN a,\n  ALTER COLUMN b SET NOT NULL;\n"
    assert [f.code for f in lint(sql)] == ["ZD304", "ZD101", "ZD401"]


def test_a_backfill_in_the_ddl_transaction_is_said_by_zd407_alone():
    # batching inside the transaction that holds the lock changes nothing: commit first
    sql = T + "BEGIN;\nALTER TABLE t ADD COLUMN x int;\nUPDATE t SET x = 1;\nCOMMIT;\n"
    assert [f.code for f in lint(sql)] == ["ZD407"]


def test_findings_of_different_statements_keep_file_order():
    sql = "ALTER TABLE t ALTER COLUMN b SET NOT NULL;\nCREATE INDEX i ON u (a);\n"
    # each statement queues on a table of its own with no lock_timeout: ZD401 names both
    found = [(f.span.line, f.code) for f in lint(sql)]
    assert found == [(1, "ZD101"), (1, "ZD401"), (2, "ZD102"), (2, "ZD401")]


def test_rewrite_under_a_lock_held_since_earlier_is_said_once_by_the_rewrite():
    sql = T + (
        "BEGIN;\nALTER TABLE t ADD COLUMN x int;\n"
        "ALTER TABLE t ALTER COLUMN c TYPE bigint;\nCOMMIT;\n"
    )
    assert [f.code for f in lint(sql)] == ["ZD202"]


def test_a_rewrite_says_the_checks_and_index_builds_of_its_statement():
    # Measured: the rewrite checks NOT NULL and CHECK in its one pass and rebuilds every
    # index of the table, the new one included; building that one CONCURRENTLY first
    # would not help.
    sql = T + (
        "ALTER TABLE t ALTER COLUMN id TYPE bigint, ALTER COLUMN a SET NOT NULL,\n"
        "  ADD CHECK (a > 0), ADD PRIMARY KEY (id);\n"
    )
    assert [f.code for f in lint(sql)] == ["ZD202"]


def test_a_foreign_key_validated_under_a_lock_held_since_earlier_is_said_once():
    sql = T + (
        "BEGIN;\nALTER TABLE t ADD COLUMN u_id bigint;\n"
        "ALTER TABLE t ADD CONSTRAINT t_u FOREIGN KEY (u_id) REFERENCES u (id);\nCOMMIT;\n"
    )
    assert [f.code for f in lint(sql)] == ["ZD105"]


def test_a_lock_held_on_another_table_during_the_work_is_still_said():
    # ZD102 is about `u`'s build; only ZD409 says that `t` stays blocked meanwhile.
    sql = T + "BEGIN;\nALTER TABLE t ADD COLUMN x int;\nCREATE INDEX u_a ON u (a);\nCOMMIT;\n"
    assert [f.code for f in lint(sql)] == ["ZD102", "ZD409"]


def test_superseded_rule_comes_back_when_the_superseding_one_is_not_selected():
    sql = T + (
        "BEGIN;\nALTER TABLE t ADD COLUMN x int;\n"
        "ALTER TABLE t ALTER COLUMN c TYPE bigint;\nCOMMIT;\n"
    )
    assert [f.code for f in lint(sql, ignore=("ZD202",))] == ["ZD409"]


def test_findings_saying_different_things_on_one_statement_both_stand():
    sql = T + "ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES u (id);\n"
    assert [f.code for f in lint(sql, extend_select=("ZD150",))] == ["ZD105", "ZD150"]


def _rule(code: str, category: str, supersedes: list[str]) -> dict[str, object]:
    return {
        "code": code,
        "name": f"rule-{code.lower()}",
        "severity": "warning",
        "category": category,
        "summary": "s",
        "message": "m",
        "help": "h",
        "relations": {"supersedes": supersedes},
        "doc": {"what": "w", "why": "y", "instead": "i"},
        "bad": [{"sql": "SELECT 1;"}],
        "good": [{"sql": "SELECT 1;"}],
    }


def test_catalogue_refuses_rules_that_supersede_each_other():
    rules = [
        rule_from_table(Path(f"{code}.toml"), _rule(code, "locking", supersedes))
        for code, supersedes in [("ZD901", ["ZD902"]), ("ZD902", ["ZD903"]), ("ZD903", ["ZD901"])]
    ]
    with pytest.raises(CatalogueError, match="leads back to ZD901"):
        check_relations(rules)
    check_relations(rules[:2])  # a chain is fine


@pytest.mark.parametrize("supersedes", [["zd401"], ["ZD901"]])
def test_catalogue_refuses_a_relation_that_is_not_another_rules_code(supersedes):
    with pytest.raises(CatalogueError, match="supersedes"):
        rule_from_table(Path("ZD901.toml"), _rule("ZD901", "locking", supersedes))


def test_every_superseded_rule_is_in_the_catalogue():
    catalogue = load_catalogue()
    for rule in catalogue:
        for code in rule.supersedes:
            assert catalogue.get(code) is not None, (rule.code, code)
