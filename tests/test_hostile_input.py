"""Named hostile inputs: every one gets a finding or a clear error, quickly, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support import lint

RUN = [sys.executable, "-c", "from zdlint.cli import run; run()"]


def zdlint(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [*RUN, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=300
    )


def test_twenty_thousand_nested_parentheses_are_one_syntax_error_not_a_crash():
    sql = "SELECT " + "(" * 20000 + "1" + ")" * 20000 + ";\nCREATE INDEX i ON t (a);\n"
    codes = [f.code for f in lint(sql)]
    assert codes.count("ZD001") == 1 and "ZD102" in codes


def test_dollar_quoted_bodies_with_semicolons_stay_one_statement():
    sql = (
        "SET lock_timeout = '1s';\n"
        "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $body$\n"
        "BEGIN PERFORM 1; PERFORM ';'; END $body$;\n"
        "CREATE INDEX i ON t (a);\n"
    )
    (finding,) = lint(sql)
    assert finding.code == "ZD102" and finding.span.line == 4


def test_multibyte_text_before_a_finding_keeps_positions_exact():
    sql = "COMMENT ON TABLE t IS '日本語 🎉 é';  CREATE INDEX i ON t (a);"
    finding = next(f for f in lint(sql) if f.code == "ZD102")
    assert finding.span.column == sql.index("CREATE") + 1
    assert finding.span.end_column == len(sql)  # the `;` is not part of the statement


def test_crlf_and_bom_together_keep_lines_and_columns():
    sql = "\ufeffSET lock_timeout = '1s';\r\n\r\n  CREATE INDEX i ON t (a);\r\n"
    (finding,) = lint(sql.encode("utf-8"))
    assert (finding.span.line, finding.span.column) == (3, 3)


def test_a_nul_byte_in_text_is_one_finding():
    (finding,) = lint(b"SELECT 1;\x00\nCREATE INDEX i ON t (a);\n")
    assert finding.code == "ZD003" and "NUL" in finding.message


def test_an_empty_file_and_a_comments_only_file_are_clean():
    assert lint(b"") == []
    assert lint("-- nothing here\n/* nor here */\n") == []


def test_a_200k_statement_file_finishes_with_bounded_memory(tmp_path):
    big = tmp_path / "big.sql"
    with big.open("w") as handle:
        handle.write("SET lock_timeout = '1s';\n")
        for i in range(200_000):
            handle.write(f"ALTER TABLE t{i % 50} ADD COLUMN column_number_{i:06d} integer;\n")
    assert big.stat().st_size > 10_000_000
    probe = (
        "import resource, subprocess, sys;"
        "r = subprocess.run(sys.argv[1:], capture_output=True);"
        "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, *RUN, "check", "-f", "concise", str(big)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    code, peak_kib = map(int, result.stdout.split())
    assert code == 0
    assert peak_kib < 1_500_000  # well under 1.5 GiB for a 10 MB file


def test_a_symlink_loop_in_a_folder_is_not_followed(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "001.sql").write_text("CREATE TABLE t (id int);\n")
    os.symlink(tmp_path / "m", tmp_path / "m" / "loop")
    os.symlink(tmp_path / "m" / "self.sql", tmp_path / "m" / "self.sql")  # a link to itself
    result = zdlint("check", "-f", "concise", "m", cwd=tmp_path)
    assert "Traceback" not in result.stderr
    assert result.returncode == 2
    assert "self.sql" in result.stderr and "cannot read" in result.stderr


def test_a_dangling_symlink_named_on_the_command_line_is_a_clear_error(tmp_path):
    os.symlink(tmp_path / "gone.sql", tmp_path / "link.sql")
    result = zdlint("check", "link.sql", cwd=tmp_path)
    assert result.returncode == 2 and "link.sql: cannot read the file" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_directory_where_a_file_is_expected_is_a_clear_error(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "a.sql").write_text("CREATE TABLE t (id int);\n")
    result = zdlint("check", "-o", "out", "a.sql", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    config_dir = zdlint("check", "--config", "out", "a.sql", cwd=tmp_path)
    assert config_dir.returncode == 2 and "Traceback" not in config_dir.stderr


def test_a_fifo_or_device_is_refused_without_hanging(tmp_path):
    fifo = tmp_path / "pipe.sql"
    os.mkfifo(fifo)
    result = zdlint("check", "pipe.sql", cwd=tmp_path)
    assert result.returncode == 2 and "not a regular file" in result.stderr


def test_a_file_over_the_size_limit_is_refused_and_one_at_the_limit_is_read(tmp_path, monkeypatch):
    from zdlint import lint
    from zdlint.catalogue import load_catalogue
    from zdlint.config import Settings

    monkeypatch.setattr(lint, "MAX_FILE_BYTES", 64)
    (tmp_path / "big.sql").write_text("SELECT 1;" * 8)  # 72 bytes
    (tmp_path / "edge.sql").write_text("SELECT 1;" * 7 + "-")  # 64 bytes
    run = lint.lint_paths(
        [str(tmp_path / "big.sql"), str(tmp_path / "edge.sql")], Settings(), load_catalogue()
    )
    assert len(run.errors) == 1 and "big.sql" in run.errors[0] and "larger than" in run.errors[0]
    assert [r.path for r in run.reports] == [(tmp_path / "edge.sql").as_posix()]
    assert run.reports[0].text == "SELECT 1;" * 7 + "-"
