"""Render a Django project's migrations to PostgreSQL SQL without a database.

Run as `python -m zdlint.orm.django_render` by `zdlint.orm.django`: Django's settings
are global to a process and the project's migrations import its own code, so each
project is rendered in a child process that reads a JSON request on stdin and writes
the rendered migration graph as JSON on stdout. zdlint's own process never imports
Django.

What rendering offline needs (checked on Django 4.2–5.2): the PostgreSQL backend module
imports psycopg (or psycopg2), but nothing connects as long as

- the connection's `pg_version` is set (features such as `is_postgresql_14` read it),
- parameters are quoted client-side with psycopg's `sql.quote` (the backend's own
  `execute` and `quote_value` merge them through a live connection),
- the schema editor is used in `collect_sql` mode without entering it (entering an
  atomic schema editor opens a transaction, that is, a connection).

- the catalogue questions the schema editor asks (the names of the constraints and
  indexes on a column, to drop them in AlterField/RemoveField) are answered from the
  schema the SQL rendered so far built (zdlint's own schema model), not from a server.

Operations that do need the database (`CreateExtension` asks whether the extension
exists, a default computed by a query, a custom operation that queries) meet a
connection and a cursor that refuse and are reported as not renderable, never skipped.
"""

from __future__ import annotations

import ast
import copy
import json
import os
import sys
from typing import Any

OFFLINE = "zdlint renders migrations without a database"


class _Offline(Exception):
    pass


def operation_lines(source: str) -> list[tuple[int, int]]:
    """(first line, last line) of each element of `operations = [...]` in the class
    `Migration` of a migration module."""
    tree = ast.parse(source)
    for node in tree.body:
        if not isinstance(node, ast.ClassDef) or node.name != "Migration":
            continue
        for item in node.body:
            value = None
            if isinstance(item, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "operations" for t in item.targets
            ):
                value = item.value
            elif (
                isinstance(item, ast.AnnAssign)
                and isinstance(item.target, ast.Name)
                and item.target.id == "operations"
            ):
                value = item.value
            if isinstance(value, (ast.List, ast.Tuple)):
                return [(e.lineno, e.end_lineno or e.lineno) for e in value.elts]
        return [(node.lineno, node.lineno)]
    return []


def _configure(request: dict[str, Any]) -> None:
    import django
    from django.conf import settings

    for folder in reversed(request["path"]):
        if folder not in sys.path:
            sys.path.insert(0, folder)
    if request.get("settings"):
        os.environ["DJANGO_SETTINGS_MODULE"] = request["settings"]
    else:
        settings.configure(
            DATABASES={
                "default": {"ENGINE": "django.db.backends.postgresql", "NAME": "zdlint_offline"}
            },
            INSTALLED_APPS=request["apps"],
            USE_TZ=True,
            # what apps commonly read while they load
            STATIC_URL="/static/",
            MEDIA_URL="/media/",
        )
    django.setup()


class _Schema:
    """The schema the rendered SQL has built so far (zdlint's own model, replayed from
    it): what the schema editor asks the database's catalogue about."""

    def __init__(self) -> None:
        from zdlint.sql.schema import SchemaModel

        self.model = SchemaModel()

    def apply(self, statements: list[str]) -> None:
        from zdlint.sql.history import replay_text

        replay_text(self.model, "\n".join(statements), None, templates=False)

    def constraints(self, table: str) -> dict[str, dict[str, Any]]:
        """Django's introspection `get_constraints(cursor, table)`, from the model."""
        found: dict[str, dict[str, Any]] = {}
        known = self.model.tables.get(table)
        for c in known.constraints.values() if known is not None else ():
            if c.kind not in ("primary", "unique", "foreign", "check", "exclusion"):
                continue
            found[c.name] = {
                "columns": list(c.columns),
                "primary_key": c.kind == "primary",
                "unique": c.kind in ("primary", "unique"),
                "foreign_key": (c.references, None) if c.kind == "foreign" else None,
                "check": c.kind == "check",
                "index": False,
                "definition": None,
                "options": None,
            }
        for index in self.model.indexes_on(table):
            if index.name in found:  # the index of a key constraint
                continue
            method = index.definition.accessMethod if index.definition is not None else None
            found[index.name] = {
                "columns": list(index.columns),
                "orders": [],
                "primary_key": False,
                "unique": index.unique,
                "foreign_key": None,
                "check": False,
                "index": True,
                "type": "idx" if method in (None, "btree") else method,
                "definition": None,
                "options": None,
            }
        return found


class _NoCursor:
    """What `connection.cursor()` gives offline: queries are refused."""

    def __enter__(self) -> _NoCursor:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def execute(self, *args: object, **kwargs: object) -> None:
        raise _Offline("the operation queries the database")

    executemany = fetchone = fetchall = callproc = execute

    def close(self) -> None:
        return None


def _offline_connection(pg_version: int, schema: _Schema) -> Any:
    from django.db import connection

    if connection.vendor != "postgresql":
        raise _Offline(f"the default database of the settings is {connection.vendor}")

    def refuse(*args: object, **kwargs: object) -> None:
        raise _Offline("the operation queries the database")

    connection.connect = refuse  # type: ignore[method-assign]
    connection.cursor = _NoCursor  # type: ignore[method-assign,assignment]
    # the catalogue questions the schema editor asks (which constraint to drop) are
    # answered from the schema the earlier SQL built
    connection.introspection.get_constraints = lambda cursor, table: schema.constraints(table)  # type: ignore[method-assign]
    connection.__dict__["pg_version"] = pg_version * 10000
    return connection


def _editor_class(connection: Any) -> type:
    from django.db.backends.base.schema import BaseDatabaseSchemaEditor
    from psycopg import sql

    class OfflineSchemaEditor(connection.SchemaEditorClass):  # type: ignore[name-defined,misc]
        def quote_value(self, value: object) -> str:
            return sql.quote(value)

        def execute(self, statement: object, params: object = ()) -> None:
            BaseDatabaseSchemaEditor.execute(self, statement, params)  # type: ignore[arg-type]

    return OfflineSchemaEditor


def _plan(graph: Any) -> list[tuple[str, str]]:
    """Every migration of the graph, each after its dependencies."""
    seen: set[tuple[str, str]] = set()
    plan = []
    for leaf in sorted(graph.leaf_nodes()):
        for node in graph.forwards_plan(leaf):
            if node not in seen:
                seen.add(node)
                plan.append(node)
    return plan


def _render_one(
    migration: Any, state: Any, editor_class: type, connection: Any, schema: _Schema
) -> dict[str, Any]:
    from django.db import migrations

    module = sys.modules[type(migration).__module__]
    path = getattr(module, "__file__", None) or ""
    try:
        with open(path, encoding="utf-8") as handle:
            lines = operation_lines(handle.read())
    except (OSError, SyntaxError, ValueError):
        lines = []
    atomic = bool(migration.atomic)
    statements: list[list[Any]] = []
    problems: list[list[Any]] = []
    opaque: list[list[Any]] = []
    editor = editor_class(connection, collect_sql=True, atomic=False)
    editor.deferred_sql = []
    deferred_line: dict[int, tuple[int, int]] = {}

    def collect(first: int, last: int, transactional: bool) -> None:
        schema.apply([str(text) for text in editor.collected_sql])
        for text in editor.collected_sql:
            statements.append([str(text), first, last, transactional])
        editor.collected_sql.clear()

    app = migration.app_label

    def run(op: Any, state: Any, first: int, last: int) -> None:
        """Render `op`, advancing `state` as Django does."""
        if isinstance(op, migrations.SeparateDatabaseAndState):
            # only the database operations run, on a state of their own
            database_state = state.clone()
            for inner in op.database_operations:
                run(inner, database_state, first, last)
            op.state_forwards(app, state)
            return
        if isinstance(op, migrations.RunPython):
            opaque.append([first, last, len(statements), atomic, "RunPython"])
            op.state_forwards(app, state)
            return
        if not op.reduces_to_sql:
            problems.append([first, f"{op.describe()} runs code whose SQL cannot be shown"])
            op.state_forwards(app, state)
            return
        old = state.clone()
        op.state_forwards(app, state)
        before = {id(d) for d in editor.deferred_sql}
        try:
            op.database_forwards(app, editor, old, state)
        except Exception as exc:  # the project's code: any failure is reported
            problems.append([first, f"{op.describe()}: {_reason(exc)}"])
            editor.collected_sql.clear()
            return
        collect(first, last, atomic)
        for item in editor.deferred_sql:
            if id(item) not in before:
                deferred_line[id(item)] = (first, last)

    for index, operation in enumerate(migration.operations):
        first, last = lines[index] if index < len(lines) else (1, 1)
        run(operation, state, first, last)
    # what Django runs when the schema editor exits: deferred foreign keys and indexes
    for item in editor.deferred_sql:
        first, last = deferred_line.get(id(item), (1, 1))
        editor.execute(item)
        collect(first, last, atomic)
    return {
        "app": app,
        "name": migration.name,
        "path": os.path.realpath(path) if path else "",
        "atomic": atomic,
        "statements": statements,
        "problems": problems,
        "opaque": opaque,
    }


def _reason(exc: BaseException) -> str:
    if isinstance(exc, _Offline):
        return str(exc)
    text = str(exc).strip().splitlines()
    detail = text[0] if text else ""
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


def render(request: dict[str, Any]) -> dict[str, Any]:
    try:
        _configure(request)
        schema = _Schema()
        connection = _offline_connection(request["pg_version"], schema)
        from django.db.migrations.loader import MigrationLoader

        loader = MigrationLoader(None, ignore_no_migrations=True)
    except Exception as exc:  # settings, imports, the graph: the project's code
        return {"error": _reason(exc), "plan": []}
    editor_class = _editor_class(connection)
    graph = loader.graph
    done: list[dict[str, Any]] = []
    from django.db.migrations.state import ProjectState

    state = ProjectState(real_apps=loader.unmigrated_apps)
    replaced = []
    for node in _plan(graph):
        migration = graph.nodes[node]
        if node in loader.replacements:
            # the migrations a squashed one replaces still run on databases that had
            # applied some of them: rendered from the state before the squash
            before, model = state.clone(), schema.model
            schema.model = copy.deepcopy(model)
            for key in migration.replaces:
                older = loader.disk_migrations.get(tuple(key))
                if older is not None:
                    rendered = _render_one(older, before, editor_class, connection, schema)
                    replaced.append({**rendered, "squashed_into": len(done)})
            schema.model = model
        rendered = _render_one(migration, state, editor_class, connection, schema)
        done.append(rendered)
    return {"error": None, "plan": done, "replaced": replaced}


def main() -> None:
    request = json.loads(sys.stdin.read())
    result = render(request)
    sys.stdout.write(json.dumps(result))


if __name__ == "__main__":
    main()
