"""Schema snapshots: the model after replaying a folder's first N migrations, cached.

Checking one new migration in a folder of hundreds (the pre-commit case) means
replaying every earlier file first. The model that replay builds is kept in the cache,
keyed by the names and bytes of the files replayed (with zdlint's version, the seed
schema and templating), so a later run loads it and replays only the files since. An
entry is never stale: change any earlier file and the key changes.

JSON like the findings cache: reading an entry never runs code, and a corrupt entry is
ignored. DEFAULT expressions are pglast nodes; they travel as pglast's own dict form.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zdlint import __version__
from zdlint.cache import JsonEntries, cache_dir, digest

if TYPE_CHECKING:  # the parser is imported only when a snapshot is read or written
    from pglast import ast

    from zdlint.sql.schema import Names, SchemaModel, Table

FORMAT = 7  # bump when the entry layout changes


class SchemaSnapshots(JsonEntries):
    """Schema models after a prefix of a migration sequence, under `<cache>/schemas/`."""

    FIELD = "schema"

    @classmethod
    def open(
        cls, seed: SchemaModel | None, templates: bool, tools: tuple[tuple[str, str], ...] = ()
    ) -> SchemaSnapshots:
        """Snapshots for one seed and the settings that change how files replay."""
        import json

        seeded = json.dumps(model_to_json(seed), sort_keys=True) if seed is not None else ""
        salt = digest(str(FORMAT), __version__, seeded, str(templates), repr(tools))
        return cls(cache_dir() / "schemas", salt)

    def get(self, key: str) -> SchemaModel | None:
        data = self.read(key)
        if data is None:
            return None
        try:
            return model_from_json(data)
        except (ValueError, KeyError, TypeError, AttributeError, IndexError):
            return None

    def put(self, key: str, model: SchemaModel) -> None:
        self.write(key, model_to_json(model))


def model_to_json(model: SchemaModel) -> dict[str, Any]:
    return {
        "tables": [_table_to_json(t) for t in model.tables.values()],
        "indexes": [
            [i.name, i.table, list(i.columns), i.unique, i.valid, i.complete, _dict(i.definition)]
            for i in model.indexes.values()
        ],
        "enums": {name: list(values) for name, values in model.enums.items()},
        "functions": dict(model.functions),
        "triggers": [[table, name, function] for (table, name), function in model.triggers.items()],
        "trigger_only_functions": sorted(model.trigger_only_functions),
        "types": {name: sorted(parts) for name, parts in model.types.items()},
        "views": {name: sorted(names) for name, names in model.views.items()},
        "routine_types": {name: sorted(names) for name, names in model.routine_types.items()},
        "materialized": sorted(model.materialized),
        "routine_users": sorted(model.routine_users),
        "released": None if model.released is None else _names_to_json(model.released),
    }


def _names_to_json(names: Names) -> dict[str, Any]:
    return {
        "tables": sorted(names.tables),
        "columns": sorted(map(list, names.columns)),
        "views": sorted(names.views),
        "labels": sorted(map(list, names.labels)),
    }


def _names_from_json(data: dict[str, Any]) -> Names:
    from zdlint.sql.schema import Names

    return Names(
        set(_texts(data["tables"])),
        {(_text(t), _text(c)) for t, c in data["columns"]},
        set(_texts(data["views"])),
        {(_text(e), _text(label)) for e, label in data["labels"]},
    )


def model_from_json(data: dict[str, Any]) -> SchemaModel:
    """The model `data` describes; raises ValueError, KeyError or TypeError if corrupt."""
    from zdlint.sql.schema import Index, SchemaModel

    model = SchemaModel()
    for item in data["tables"]:
        table = _table_from_json(item)
        model.tables[table.name] = table
    for name, table_name, columns, unique, valid, complete, definition in data["indexes"]:
        model.indexes[_text(name)] = Index(
            _text(name),
            _text(table_name),
            _texts(columns),
            _flag(unique),
            _flag(valid),
            _flag(complete),
            _node(definition),  # type: ignore[arg-type]
        )
    for name, values in data["enums"].items():
        model.enums[_text(name)] = list(_texts(values))
    for name, letter in data["functions"].items():
        if letter not in ("i", "s", "v"):
            raise ValueError(f"volatility {letter!r}")
        model.functions[_text(name)] = letter
    for table_name, name, function in data["triggers"]:
        model.triggers[(_text(table_name), _text(name))] = _text(function)
    model.trigger_only_functions = set(_texts(data["trigger_only_functions"]))
    for field in ("types", "views", "routine_types"):
        entries = getattr(model, field)
        for name, names in data[field].items():
            entries[_text(name)] = frozenset(_texts(names))
    model.materialized = set(_texts(data["materialized"]))
    model.routine_users = set(_texts(data["routine_users"]))
    released = data["released"]
    model.released = None if released is None else _names_from_json(released)
    return model


def _table_to_json(table: Table) -> dict[str, Any]:
    return {
        "name": table.name,
        "columns": [
            [
                c.name,
                c.type.name,
                list(c.type.modifiers),
                c.type.array,
                c.not_null,
                _dict(c.default),
                c.identity,
                c.owned_sequence,
            ]
            for c in table.columns.values()
        ],
        "constraints": [
            [
                c.name,
                c.kind,
                c.validated,
                list(c.columns),
                c.not_null_column,
                c.references,
                _dict(c.definition),
            ]
            for c in table.constraints.values()
        ],
        "partitioned": table.partitioned,
        "partition_of": table.partition_of,
        "partition_key": list(table.partition_key),
        "created": table.created,
        "temporary": table.temporary,
    }


def _table_from_json(item: dict[str, Any]) -> Table:
    from zdlint.sql.schema import Column, ColumnType, Constraint, Table

    table = Table(
        _text(item["name"]),
        partitioned=_flag(item["partitioned"]),
        partition_of=_optional_text(item["partition_of"]),
        partition_key=_texts(item["partition_key"]),
        created=_flag(item["created"]),
        temporary=_flag(item["temporary"]),
    )
    for name, type_name, modifiers, array, not_null, default, identity, owned in item["columns"]:
        kind = ColumnType(_text(type_name), tuple(int(m) for m in modifiers), _flag(array))
        table.columns[_text(name)] = Column(
            _text(name),
            kind,
            _flag(not_null),
            _node(default),
            _flag(identity),
            _optional_text(owned),
        )
    for name, kind, validated, columns, not_null_column, references, definition in item[
        "constraints"
    ]:
        table.constraints[_text(name)] = Constraint(
            _text(name),
            _text(kind),
            _flag(validated),
            _texts(columns),
            _optional_text(not_null_column),
            _optional_text(references),
            _node(definition),  # type: ignore[arg-type]
        )
    return table


def _dict(node: ast.Node | None) -> Any:
    """A pglast node's own dict form (None stays None)."""
    return node() if node is not None else None


def _node(data: Any) -> ast.Node | None:
    """A pglast node from its dict form; only pglast's own node classes are built."""
    from pglast import ast

    if data is None:
        return None
    node_class = getattr(ast, _text(data["@"]), None)
    if not (isinstance(node_class, type) and issubclass(node_class, ast.Node)):
        raise ValueError("not a pglast node")
    return node_class(data)  # type: ignore[no-any-return]


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("corrupt snapshot")
    return value


def _optional_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _texts(values: Any) -> tuple[str, ...]:
    return tuple(_text(v) for v in values)


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError("corrupt snapshot")
    return value
