"""Schema snapshots: a long replay is cached, reused when its files are unchanged only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zdlint.catalogue import load_catalogue
from zdlint.config import Settings
from zdlint.lint import lint_paths
from zdlint.sql import history as history_module
from zdlint.sql.history import SNAPSHOT_AFTER, History
from zdlint.sql.snapshots import SchemaSnapshots, model_from_json, model_to_json

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "sql"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ZDLINT_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def replays(monkeypatch):
    """The files each History replays, in order."""
    seen: list[str] = []
    original = History._replay

    def counting(self, model, path):
        seen.append(path.name)
        original(self, model, path)

    monkeypatch.setattr(History, "_replay", counting)
    return seen


def folder_of(tmp_path: Path, count: int) -> Path:
    """`count` migrations: a table, then one column each, with defaults and constraints."""
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0000_create.sql").write_text("CREATE TABLE t (id bigint PRIMARY KEY);\n")
    for n in range(1, count):
        (folder / f"{n:04d}_add.sql").write_text(
            f"ALTER TABLE t ADD COLUMN c{n} integer DEFAULT {n} NOT NULL;\n"
            f"ALTER TABLE t ADD CONSTRAINT k{n} CHECK (c{n} >= 0);\n"
        )
    return folder


def store() -> SchemaSnapshots:
    return SchemaSnapshots.open(None, templates=False)


def test_a_long_replay_is_kept_and_the_next_run_replays_only_what_follows(tmp_path, cache, replays):
    folder = folder_of(tmp_path, SNAPSHOT_AFTER + 10)
    last = folder / f"{SNAPSHOT_AFTER + 9:04d}_add.sql"
    first_model = History(snapshots=store()).model_before(last)
    assert len(replays) == SNAPSHOT_AFTER + 9
    assert list((cache / "schemas").glob("*/*.json"))

    replays.clear()
    newer = folder / f"{SNAPSHOT_AFTER + 10:04d}_add.sql"
    newer.write_text("ALTER TABLE t ALTER COLUMN c1 SET NOT NULL;\n")
    second_model = History(snapshots=store()).model_before(newer)
    assert replays == [last.name]  # from the snapshot before `last`, only `last` itself
    plain = History().model_before(newer)
    assert second_model == plain != first_model


def test_an_edited_earlier_migration_is_not_served_from_a_snapshot(tmp_path, cache, replays):
    folder = folder_of(tmp_path, SNAPSHOT_AFTER + 5)
    last = folder / f"{SNAPSHOT_AFTER + 4:04d}_add.sql"
    History(snapshots=store()).model_before(last)
    (folder / "0003_add.sql").write_text("ALTER TABLE t ADD COLUMN renamed text;\n")
    replays.clear()
    model = History(snapshots=store()).model_before(last)
    assert len(replays) == SNAPSHOT_AFTER + 4  # everything again
    assert model.column("t", "renamed") is not None and model.column("t", "c3") is None


def test_a_corrupt_snapshot_is_ignored(tmp_path, cache, replays):
    folder = folder_of(tmp_path, SNAPSHOT_AFTER + 3)
    last = folder / f"{SNAPSHOT_AFTER + 2:04d}_add.sql"
    History(snapshots=store()).model_before(last)
    for entry in (cache / "schemas").glob("*/*.json"):
        data = json.loads(entry.read_text())
        data["schema"]["tables"][0]["columns"][0][5] = {"@": "os.system"}
        entry.write_text(json.dumps(data))
    replays.clear()
    model = History(snapshots=store()).model_before(last)
    assert len(replays) == SNAPSHOT_AFTER + 2
    assert model == History().model_before(last)


def test_findings_with_snapshots_equal_findings_without_cache(tmp_path, cache):
    folder = folder_of(tmp_path, SNAPSHOT_AFTER + 3)
    target = folder / "9999_new.sql"
    target.write_text(
        "SET lock_timeout = '1s';\nALTER TABLE t ALTER COLUMN c5 TYPE bigint;\n"
        "ALTER TABLE t ALTER COLUMN c7 SET NOT NULL;\n"
    )
    settings, catalogue = Settings(root=tmp_path), load_catalogue()
    plain = lint_paths([str(target)], settings, catalogue)
    from zdlint.cache import FindingsCache

    for _ in range(2):  # the second run starts from the snapshot the first one kept
        target.write_text(target.read_text() + "-- again\n")
        cached = lint_paths([str(target)], settings, catalogue, cache=FindingsCache.open("", ""))
        assert [f.code for f in cached.reports[0].findings] == [
            f.code for f in plain.reports[0].findings
        ]
    assert "ZD202" in {f.code for f in plain.reports[0].findings}
    assert list((cache / "schemas").glob("*/*.json"))


def test_no_snapshots_without_the_cache(tmp_path, cache):
    folder = folder_of(tmp_path, SNAPSHOT_AFTER + 3)
    lint_paths([str(folder / "9999_x.sql")], Settings(root=tmp_path), load_catalogue())
    assert not (cache / "schemas").exists()


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared corpus is not here")
def test_snapshots_of_real_histories_round_trip_exactly():
    for project in sorted(p for p in CORPUS.iterdir() if p.is_dir()):
        files = sorted(project.glob("*.sql"))
        model = History().model_before(files[-1])
        assert model.tables
        assert model_from_json(json.loads(json.dumps(model_to_json(model)))) == model


def test_lookback_reaches_a_snapshot_a_few_files_back(tmp_path, cache, replays):
    assert history_module.LOOKBACK > 3
    folder = folder_of(tmp_path, SNAPSHOT_AFTER + 6)
    History(snapshots=store()).model_before(folder / f"{SNAPSHOT_AFTER + 2:04d}_add.sql")
    replays.clear()
    History(snapshots=store()).model_before(folder / f"{SNAPSHOT_AFTER + 5:04d}_add.sql")
    assert len(replays) == 3
