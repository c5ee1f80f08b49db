"""ZD310: a column this release adds, left NOT NULL without a DEFAULT, breaks the INSERTs
of the version still running, which does not know the column."""

from __future__ import annotations

import pytest

from tests.support import lint

T = "SET lock_timeout = '3s';\n"


def _zd310(sql: str) -> list[tuple[int, str]]:
    return [(f.span.line, f.message) for f in lint(T + sql) if f.code == "ZD310"]


def test_dropping_the_default_of_a_column_added_not_null_in_the_file_is_flagged():
    (finding,) = [
        f
        for f in lint(
            T + "ALTER TABLE t ADD COLUMN plan text NOT NULL DEFAULT 'free';\n"
            "ALTER TABLE t ALTER COLUMN plan DROP DEFAULT;\n"
        )
        if f.code == "ZD310"
    ]
    assert finding.span.line == 3
    assert finding.message.startswith(
        "`t.plan` is added by this release and left NOT NULL without a DEFAULT in it"
    )
    assert finding.help == (
        "Keep the DEFAULT now; drop it in a later release, once every running writer sets plan"
    )


@pytest.mark.parametrize(
    "sql",
    [
        # Prisma's pair, several columns at once: each dropped DEFAULT is its own finding
        "ALTER TABLE t ADD COLUMN a jsonb NOT NULL DEFAULT '[]',\n"
        "  ADD COLUMN b int NOT NULL DEFAULT 0;\n"
        "ALTER TABLE t ALTER COLUMN a DROP DEFAULT,\n  ALTER COLUMN b DROP DEFAULT;\n",
        # in one statement
        "ALTER TABLE t ADD COLUMN a int NOT NULL DEFAULT 0, ALTER COLUMN a DROP DEFAULT;\n"
        "ALTER TABLE t ADD COLUMN b int PRIMARY KEY DEFAULT 0, ALTER COLUMN b SET DEFAULT NULL;\n",
        # made NOT NULL while it still had its DEFAULT, then the DEFAULT dropped with it
        "ALTER TABLE t ADD COLUMN a int DEFAULT 0;\n"
        "ALTER TABLE t ALTER COLUMN a SET NOT NULL, ALTER COLUMN a DROP DEFAULT;\n"
        "ALTER TABLE t ADD COLUMN b int DEFAULT 0;\n"
        "ALTER TABLE t ALTER COLUMN b SET NOT NULL;\nALTER TABLE t ALTER COLUMN b DROP DEFAULT;\n",
    ],
)
def test_each_new_not_null_column_losing_its_default_is_flagged_once(sql):
    found = _zd310(sql)
    assert len(found) == 2 and len(set(found)) == 2
    assert all("left NOT NULL without a DEFAULT" in message for _, message in found)


@pytest.mark.parametrize(
    "sql",
    [
        # a nullable new column: INSERTs that omit it store NULL, as they did with the DEFAULT
        "ALTER TABLE t ADD COLUMN a int DEFAULT 0;\nALTER TABLE t ALTER COLUMN a DROP DEFAULT;\n",
        # a column of an earlier release: the running version writes it
        "ALTER TABLE t ALTER COLUMN old DROP DEFAULT;\n",
        # a new table: nothing running writes it yet
        "CREATE TABLE n (id int);\nALTER TABLE n ADD COLUMN a int NOT NULL DEFAULT 0;\n"
        "ALTER TABLE n ALTER COLUMN a DROP DEFAULT;\n",
        # a new DEFAULT instead of none
        "ALTER TABLE t ADD COLUMN a int NOT NULL DEFAULT 0;\n"
        "ALTER TABLE t ALTER COLUMN a SET DEFAULT 1;\n",
        # NOT NULL dropped too
        "ALTER TABLE t ADD COLUMN a int NOT NULL DEFAULT 0;\n"
        "ALTER TABLE t ALTER COLUMN a DROP NOT NULL;\nALTER TABLE t ALTER COLUMN a DROP DEFAULT;\n",
    ],
)
def test_dropping_a_default_that_fills_no_required_new_column_is_quiet(sql):
    assert _zd310(sql) == []


def test_a_later_file_dropping_the_default_is_not_known_to_be_in_the_same_release(tmp_path):
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "001_add.sql").write_text(T + "ALTER TABLE t ADD COLUMN a int NOT NULL DEFAULT 0;\n")
    later = folder / "002_drop_default.sql"
    later.write_text(T + "ALTER TABLE t ALTER COLUMN a DROP DEFAULT;\n")
    assert [f.code for f in lint(later.read_text(), later)] == []


def test_making_a_new_column_not_null_still_says_so():
    ((line, message),) = _zd310(
        "ALTER TABLE t ADD COLUMN a int;\nALTER TABLE t ALTER COLUMN a SET NOT NULL;\n"
    )
    assert line == 3 and "made NOT NULL in it" in message


_SYNC = """ALTER TABLE t ADD COLUMN b text;
CREATE FUNCTION t_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.{assigned} := coalesce(NEW.a, '');
  RETURN NEW;
END
$$;
CREATE TRIGGER t_sync {timing} INSERT ON t FOR EACH ROW EXECUTE FUNCTION t_sync();
ALTER TABLE t ALTER COLUMN b SET NOT NULL;
"""


def test_a_column_a_before_insert_trigger_of_the_file_fills_is_not_flagged():
    assert _zd310(_SYNC.format(assigned="b", timing="BEFORE")) == []


@pytest.mark.parametrize(
    ("assigned", "timing"),
    [("c", "BEFORE"), ("b", "AFTER")],
    ids=["assigns-another-column", "after-insert"],
)
def test_a_trigger_that_does_not_fill_the_column_before_insert_does_not_excuse_it(assigned, timing):
    assert [line for line, _ in _zd310(_SYNC.format(assigned=assigned, timing=timing))] == [10]
