"""A batch checked on several processes reports exactly what one process does."""

from __future__ import annotations

import sys

import pytest

from zdlint import parallel
from zdlint.catalogue import load_catalogue
from zdlint.config import Settings
from zdlint.lint import lint_paths

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork pool: Linux")


def test_the_pool_gives_the_same_reports_in_the_same_order(tmp_path, monkeypatch):
    for folder in ("app", "billing"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "001_create.sql").write_text("CREATE TABLE t (id bigint);\n")
        for n in range(2, 8):
            (tmp_path / folder / f"{n:03d}_change.sql").write_text(
                f"ALTER TABLE t ADD COLUMN c{n} integer NOT NULL DEFAULT {n};\n"
                f"ALTER TABLE t ALTER COLUMN c{n} SET NOT NULL;\n"
                f"CREATE INDEX t_c{n} ON t (c{n});\n"
            )
    settings, catalogue = Settings(root=tmp_path), load_catalogue()
    serial = lint_paths([str(tmp_path)], settings, catalogue, parallel=True)
    monkeypatch.setattr(parallel, "MIN_FILES", 1)
    monkeypatch.setattr(parallel, "MIN_CORES", 1)
    assert parallel.worker_count(14) > 1
    pooled = lint_paths([str(tmp_path)], settings, catalogue, parallel=True)
    assert [r.path for r in pooled.reports] == [r.path for r in serial.reports]
    assert [r.findings for r in pooled.reports] == [r.findings for r in serial.reports]
    assert any(r.findings for r in pooled.reports)


def test_a_stretch_that_starts_inside_a_folder_replays_its_earlier_files(tmp_path, monkeypatch):
    # The table is created by the first file only; a worker whose stretch starts later
    # in the folder must still know it (else ZD101 would go quiet as "new table").
    (tmp_path / "001_create.sql").write_text("CREATE TABLE t (id bigint);\n")
    for n in range(2, 30):
        (tmp_path / f"{n:03d}_change.sql").write_text(
            f"SET lock_timeout = '1s';\nALTER TABLE t ALTER COLUMN c{n} SET NOT NULL;\n"
        )
    settings, catalogue = Settings(root=tmp_path), load_catalogue()
    serial = lint_paths([str(tmp_path)], settings, catalogue)
    monkeypatch.setattr(parallel, "MIN_FILES", 1)
    monkeypatch.setattr(parallel, "MIN_CORES", 1)
    monkeypatch.setattr(parallel, "worker_count", lambda files: 3)
    pooled = lint_paths([str(tmp_path)], settings, catalogue, parallel=True)
    assert [r.findings for r in pooled.reports] == [r.findings for r in serial.reports]
    assert [r.text for r in pooled.reports] == [r.text for r in serial.reports]
    assert sum("ZD101" in {f.code for f in r.findings} for r in pooled.reports) == 28


def test_stretches_cover_the_batch_in_order_and_share_the_cost(tmp_path):
    from zdlint.discover import Target
    from zdlint.lint import Job

    jobs = [
        Job(f"{n}.sql", Target(f"{n}.sql", tmp_path / f"{n:03d}.sql", "sql"), b"SELECT 1;" * n)
        for n in range(1, 41)
    ]
    indexes = list(range(40))
    for workers in (1, 2, 3, 8):
        stretches = parallel.stretches_of(jobs, indexes, workers)
        assert [i for s in stretches for i in s] == indexes
        assert len(stretches) == min(workers, 40) and all(stretches)
    first, second = (
        sum(parallel.FILE_COST + jobs[i].data.count(b";") for i in s)
        for s in parallel.stretches_of(jobs, indexes, 2)
    )
    # the second stretch also replays the first, so it gets fewer files of its own,
    # and the two cost about the same in all
    assert first > second
    assert abs(first - (second + parallel.REPLAY_SHARE * first)) < 0.1 * first


def test_a_worker_returns_what_its_work_returned():
    child = parallel._Child(lambda: {"answer": [42, "x"]})
    assert child.result() == {"answer": [42, "x"]}


def test_a_worker_that_raises_fails_the_run_with_its_error():
    def work():
        raise ValueError("bad migration state")

    child = parallel._Child(work)
    with pytest.raises(parallel.WorkerFailed, match="ValueError: bad migration state"):
        child.result()


def test_a_killed_worker_fails_the_run_and_an_abandoned_one_is_reaped():
    import os
    import signal

    child = parallel._Child(lambda: os.kill(os.getpid(), signal.SIGKILL))
    with pytest.raises(parallel.WorkerFailed, match="killed by signal 9"):
        child.result()
    slow = parallel._Child(lambda: __import__("time").sleep(30))
    pid = slow.pid
    slow.stop()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # already reaped: no zombie left behind


@pytest.mark.parametrize("color", [False, True])
def test_reports_prepared_where_they_are_checked_render_as_unprepared_ones(
    tmp_path, monkeypatch, color
):
    from zdlint.report import preparer, render

    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        for n in range(1, 6):
            (tmp_path / folder / f"{n:03d}_x.sql").write_text(
                f"CREATE INDEX i{n} ON t (c{n});\nALTER TABLE t ALTER COLUMN c{n} SET NOT NULL;\n"
            )
    settings, catalogue = Settings(root=tmp_path), load_catalogue()
    plain = lint_paths([str(tmp_path)], settings, catalogue)
    monkeypatch.setattr(parallel, "MIN_FILES", 1)
    monkeypatch.setattr(parallel, "MIN_CORES", 1)
    prepare = preparer("full", color=color)
    assert prepare is not None
    pooled = lint_paths([str(tmp_path)], settings, catalogue, parallel=True, prepare=prepare)
    assert all(r.prepared is not None for r in pooled.reports)
    expected = render("full", plain.reports, catalogue, color=color)
    assert render("full", pooled.reports, catalogue, color=color) == expected
    assert expected.count("ZD102") == 10
    # prepared without colour, rendered with: the blocks are made again, in colour
    other = lint_paths(
        [str(tmp_path)], settings, catalogue, prepare=preparer("full", color=not color)
    )
    assert render("full", other.reports, catalogue, color=color) == expected


def test_a_file_named_twice_renders_its_findings_in_line_order_even_when_prepared(tmp_path):
    from zdlint.report import preparer, render

    target = tmp_path / "001_x.sql"
    target.write_text("CREATE INDEX i ON t (c);\nALTER TABLE t ALTER COLUMN c SET NOT NULL;\n")
    settings, catalogue = Settings(root=tmp_path), load_catalogue()
    twice = [str(target), str(target)]
    plain = lint_paths(twice, settings, catalogue)
    prepared = lint_paths(twice, settings, catalogue, prepare=preparer("full"))
    assert render("full", prepared.reports, catalogue) == render("full", plain.reports, catalogue)


def test_formats_without_a_per_file_part_have_no_preparer():
    from zdlint.report import preparer

    # SARIF and GitLab read every file's text at the end (fingerprints): no per-file part
    assert preparer("sarif") is None and preparer("gitlab") is None
    assert preparer("full") is not None and preparer("json") is not None  # json drops text
