"""`zdlint server`, driven by a real LSP client session over stdio."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.lsp_client import LspClient
from zdlint.catalogue import load_catalogue
from zdlint.config import Settings
from zdlint.editor import SUPPRESSION_REASON, Workspace, manifest_suppression

pytest.importorskip("pygls")

INIT = "CREATE TABLE users (id bigint PRIMARY KEY, email text);\n"


def apply(text: str, edit: dict[str, Any]) -> str:
    """`text` with one LSP TextEdit applied (ASCII text: characters are code units)."""
    lines = text.splitlines(keepends=True)

    def offset(position: dict[str, int]) -> int:
        return sum(len(line) for line in lines[: position["line"]]) + position["character"]

    start, end = offset(edit["range"]["start"]), offset(edit["range"]["end"])
    return text[:start] + edit["newText"] + text[end:]


def open_document(client: LspClient, path: Path, text: str) -> list[dict[str, Any]]:
    document = {"uri": path.as_uri(), "languageId": "sql", "version": 1, "text": text}
    client.notify("textDocument/didOpen", {"textDocument": document})
    return client.diagnostics(path.as_uri())


def change_document(client: LspClient, path: Path, text: str, version: int) -> list[dict[str, Any]]:
    client.notify(
        "textDocument/didChange",
        {
            "textDocument": {"uri": path.as_uri(), "version": version},
            "contentChanges": [{"text": text}],
        },
    )
    return client.diagnostics(path.as_uri())


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "0001_init.sql").write_text(INIT)
    return tmp_path


@pytest.fixture
def client(project: Path):  # type: ignore[no-untyped-def]
    session = LspClient(project)
    session.start(project)
    yield session
    if session.process.poll() is None:
        session.process.kill()
        session.process.wait()


def code_actions(client: LspClient, path: Path, diagnostic: dict[str, Any]) -> dict[str, Any]:
    actions = client.request(
        "textDocument/codeAction",
        {
            "textDocument": {"uri": path.as_uri()},
            "range": diagnostic["range"],
            "context": {"diagnostics": [diagnostic]},
        },
    )
    return {action["title"]: action for action in actions}


def test_a_session_publishes_diagnostics_fixes_suppresses_and_explains(project, client):
    path = project / "migrations" / "0002_nick.sql"
    text = "ALTER TABLE users ADD COLUMN nick text;\n"
    path.write_text(text)

    diagnostics = open_document(client, path, text)
    assert [d["code"] for d in diagnostics] == ["ZD401"]
    lock_timeout = diagnostics[0]
    assert lock_timeout["source"] == "zdlint"
    assert lock_timeout["range"] == {
        "start": {"line": 0, "character": 0},
        "end": {"line": 0, "character": 38},
    }
    assert "no lock_timeout" in lock_timeout["message"]

    actions = code_actions(client, path, lock_timeout)
    assert set(actions) == {"Fix with zdlint fix", "Suppress ZD401 here"}
    (fix_edit,) = actions["Fix with zdlint fix"]["edit"]["changes"][path.as_uri()]
    fixed = apply(text, fix_edit)
    assert fixed == "SET lock_timeout = '3s';\n" + text
    assert change_document(client, path, fixed, 2) == []

    (suppress_edit,) = actions["Suppress ZD401 here"]["edit"]["changes"][path.as_uri()]
    suppressed = apply(text, suppress_edit)
    assert suppressed == f"-- zdlint: ignore[ZD401] {SUPPRESSION_REASON}\n" + text
    assert change_document(client, path, suppressed, 3) == []

    change_document(client, path, text, 4)
    hover = client.request(
        "textDocument/hover",
        {"textDocument": {"uri": path.as_uri()}, "position": {"line": 0, "character": 5}},
    )
    rule = load_catalogue().get("ZD401")
    assert rule is not None
    assert hover["contents"]["kind"] == "markdown"
    assert hover["contents"]["value"].startswith(f"**ZD401 {rule.name}**: {rule.summary}.")
    assert rule.why.strip() in hover["contents"]["value"]
    nowhere = client.request(
        "textDocument/hover",
        {"textDocument": {"uri": path.as_uri()}, "position": {"line": 1, "character": 0}},
    )
    assert nowhere is None

    assert client.stop() == 0


def test_a_fix_that_would_add_a_migration_is_not_offered(project, client):
    path = project / "migrations" / "0002_index.sql"
    text = "CREATE INDEX users_email ON users (email);\n"
    path.write_text(text)
    diagnostics = open_document(client, path, text)
    index = next(d for d in diagnostics if d["code"] == "ZD102")
    assert index["data"]["fixable"] is True  # `zdlint fix` moves it to a file of its own
    assert "Fix with zdlint fix" not in code_actions(client, path, index)
    assert client.stop() == 0


def test_the_earlier_migrations_of_the_folder_count_and_a_save_rereads_them(project, client):
    path = project / "migrations" / "0002_id.sql"
    text = "SET lock_timeout = '1s';\nALTER TABLE users ALTER COLUMN id TYPE int;\n"
    path.write_text(text)
    (rewrite,) = open_document(client, path, text)
    assert "from bigint to integer" in rewrite["message"]

    (project / "migrations" / "0001_init.sql").write_text(INIT.replace("bigint", "numeric"))
    (unchanged,) = change_document(client, path, text + "\n", 2)
    assert "from bigint to integer" in unchanged["message"]  # no save yet: kept
    client.notify("textDocument/didSave", {"textDocument": {"uri": path.as_uri()}})
    (reread,) = client.diagnostics(path.as_uri())
    assert "from numeric to integer" in reread["message"]
    assert client.stop() == 0


def test_manifests_get_diagnostics_and_an_annotation_to_suppress_them(project, client):
    rule = load_catalogue().get("ZK101")
    assert rule is not None
    text = rule.bad_examples[0].source
    path = project / "deploy.yaml"
    path.write_text(text)
    document = {"uri": path.as_uri(), "languageId": "yaml", "version": 1, "text": text}
    client.notify("textDocument/didOpen", {"textDocument": document})
    diagnostics = client.diagnostics(path.as_uri())
    probe = next(d for d in diagnostics if d["code"] == "ZK101")
    actions = code_actions(client, path, probe)
    (edit,) = actions["Suppress ZK101 here"]["edit"]["changes"][path.as_uri()]
    suppressed = apply(text, edit)
    assert suppressed.startswith(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  annotations:\n"
        f'    zdlint.io/ignore: "ZK101 {SUPPRESSION_REASON}"\n  name: web\n'
    )
    after = change_document(client, path, suppressed, 2)
    assert "ZK101" not in {d["code"] for d in after}
    assert client.stop() == 0


def _manifest_finding(text: str, line: int):  # type: ignore[no-untyped-def]
    from zdlint.findings import Finding, Severity, Span

    return Finding("ZK101", "x", Severity.WARNING, "a.yaml", Span(line, 1, line, 2), "m")


def test_an_annotation_joins_the_existing_annotations_of_its_own_document():
    text = (
        "kind: Service\nmetadata:\n  name: a\n---\n"
        "kind: Deployment\nmetadata:\n  name: web\n  annotations:\n"
        "    team: core\nspec:\n  replicas: 3\n"
    )
    insertion = manifest_suppression(_manifest_finding(text, 11), text)
    assert insertion is not None
    assert insertion.line == 8
    assert insertion.text == f'    zdlint.io/ignore: "ZK101 {SUPPRESSION_REASON}"\n'


def test_no_annotation_is_offered_where_one_is_written_already():
    text = 'kind: Deployment\nmetadata:\n  annotations:\n    zdlint.io/ignore: "ZK205 x"\n'
    assert manifest_suppression(_manifest_finding(text, 1), text) is None


def test_a_keystroke_reuses_the_schema_before_the_file(project: Path):
    catalogue = load_catalogue()
    workspace = Workspace(Settings(), catalogue)
    path = project / "migrations" / "0002_id.sql"
    text = "ALTER TABLE users ALTER COLUMN id TYPE int;\n"
    first = workspace.check(path, text)
    (project / "migrations" / "0001_init.sql").unlink()  # the kept model does not read it
    second = workspace.check(path, text + "\n")
    assert [f.message for f in first.findings] == [f.message for f in second.findings]
    workspace.forget()
    third = workspace.check(path, text)
    assert "from bigint" not in " ".join(f.message for f in third.findings)


SCHEMA = """
CREATE TABLE accounts (id bigint PRIMARY KEY, name text NOT NULL DEFAULT 'x');
CREATE TABLE users (
    id bigint PRIMARY KEY,
    account_id bigint REFERENCES accounts (id),
    email text,
    CONSTRAINT email_set CHECK (email IS NOT NULL) NOT VALID
);
CREATE INDEX users_email ON users (email);
CREATE TYPE mood AS ENUM ('sad', 'ok');
"""
CHANGES = """
ALTER TABLE users RENAME TO people;
ALTER TABLE people DROP COLUMN email;
ALTER TABLE people VALIDATE CONSTRAINT email_set;
ALTER TABLE accounts ALTER COLUMN name DROP NOT NULL;
ALTER TABLE accounts ADD COLUMN plan text;
ALTER TYPE mood ADD VALUE 'glad';
DROP TABLE accounts CASCADE;
"""


def test_a_copy_of_the_schema_changes_without_changing_the_original():
    from zdlint.editor import copy_model
    from zdlint.sql.history import replay_text
    from zdlint.sql.schema import SchemaModel
    from zdlint.sql.snapshots import model_to_json

    original = SchemaModel()
    replay_text(original, SCHEMA, Path("0001.sql"), False, None)
    before = model_to_json(original)
    changed = copy_model(original)
    replay_text(changed, CHANGES, Path("0002.sql"), False, None)
    assert model_to_json(original) == before
    assert model_to_json(changed) != before
    plain = SchemaModel()
    replay_text(plain, SCHEMA + CHANGES, Path("0001.sql"), False, None)
    assert model_to_json(changed) == model_to_json(plain)
