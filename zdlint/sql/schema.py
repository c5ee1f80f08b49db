"""A static model of the database schema, built by replaying DDL in order.

Replaying the earlier migrations of a folder (or a `pg_dump --schema-only` file) tells
the rules what exists before a migration runs: column types (so ALTER COLUMN TYPE is
judged against the real current type), NOT NULL columns and validated CHECK
constraints, indexes (so a foreign key knows whether its columns are indexed),
partitioned tables and enum types, and what depends on what (foreign keys, the
relations, functions and types a view names, the types columns, types and function
signatures use) so a DROP can tell whether anything still needs the object.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pglast import ast
from pglast.enums import AlterTableType, ConstrType, DropBehavior, NullTestType, ObjectType

from zdlint.sql.default_names import constraint_name, index_name, object_name
from zdlint.sql.names import (
    is_temporary,
    last_name,
    relation_name,
    strings,
    type_modifiers,
    type_name,
    walk,
)
from zdlint.sql.volatility import VOLATILE, volatility_word

# Type name aliases as pglast reports them (the parser already maps int -> int4 etc.).
_ALIASES = {
    "character varying": "varchar",
    "character": "bpchar",
    "char": "bpchar",
    "timestamp with time zone": "timestamptz",
    "int": "int4",
    "integer": "int4",
    "bigint": "int8",
    "smallint": "int2",
    "serial": "int4",
    "serial4": "int4",
    "bigserial": "int8",
    "serial8": "int8",
    "smallserial": "int2",
    "serial2": "int2",
    "decimal": "numeric",
    "bool": "bool",
}


@dataclass(frozen=True)
class ColumnType:
    """A column's type as PostgreSQL resolves it, aliases folded."""

    name: str  # canonical base name: int4, varchar, text, numeric, timestamptz…
    modifiers: tuple[int, ...] = ()  # varchar(20) -> (20,), numeric(10,2) -> (10, 2)
    array: bool = False

    def __str__(self) -> str:
        mods = f"({', '.join(map(str, self.modifiers))})" if self.modifiers else ""
        return f"{self.name}{mods}{'[]' if self.array else ''}"


def column_type(node: ast.TypeName | None) -> ColumnType:
    name = type_name(node)
    return ColumnType(
        _ALIASES.get(name, name),
        tuple(type_modifiers(node)),
        bool(node is not None and node.arrayBounds),
    )


@dataclass
class Column:
    """A column of a table in the model."""

    name: str
    type: ColumnType
    not_null: bool = False
    default: ast.Node | None = None  # the DEFAULT expression, when one is set
    identity: bool = False  # GENERATED … AS IDENTITY
    owned_sequence: str | None = None  # serial: the sequence it owns (and its default)
    # (the default it was read from, its sequences): `default` may be set again
    _sequences_of: tuple[object, frozenset[str]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def sequences(self) -> frozenset[str]:
        """The sequences the DEFAULT takes values from (`nextval('s'::regclass)`), read
        once per default: lock checks ask for every column of every table."""
        cached = self._sequences_of
        if cached is None or cached[0] is not self.default:
            cached = (self.default, frozenset(nextval_sequences(self.default)))
            self._sequences_of = cached
        return cached[1]


@dataclass
class Constraint:
    """A table constraint, and whether it is validated."""

    name: str
    kind: str  # check, foreign, unique, primary, exclusion, not_null
    validated: bool
    columns: tuple[str, ...] = ()
    not_null_column: str | None = None  # CHECK (col IS NOT NULL)
    references: str | None = None  # the table a foreign key references
    definition: ast.Constraint | None = None  # as written, to build it again elsewhere


@dataclass
class Index:
    """An index of the model: its table, leading columns and uniqueness."""

    name: str
    table: str
    columns: tuple[str, ...]  # leading plain columns; expressions end the list
    unique: bool = False
    valid: bool = True
    # every key column is a plain column and no WHERE limits it to some rows: a unique
    # index is then a key of the whole table
    complete: bool = True
    definition: ast.IndexStmt | None = None  # CREATE INDEX as written, when one made it


@dataclass
class Table:
    """A table of the model: its columns, constraints and partitioning."""

    name: str
    columns: dict[str, Column] = field(default_factory=dict)
    constraints: dict[str, Constraint] = field(default_factory=dict)
    partitioned: bool = False
    partition_of: str | None = None
    # PARTITION BY RANGE/LIST/HASH (col, …): the key's columns; empty when an expression
    # is part of the key (or the table is not partitioned).
    partition_key: tuple[str, ...] = ()
    # False for a table the model met only in ALTER TABLE (created before the history it
    # replayed): its columns and keys are partly unknown
    created: bool = True
    # CREATE TEMP TABLE: private to the session that created it, gone when it ends.
    temporary: bool = False


@dataclass
class Names:
    """The names of the objects a schema holds that the application's queries use:
    tables, their columns, views and enum labels."""

    tables: set[str] = field(default_factory=set)
    columns: set[tuple[str, str]] = field(default_factory=set)
    views: set[str] = field(default_factory=set)
    labels: set[tuple[str, str]] = field(default_factory=set)

    def add(self, other: Names) -> None:
        self.tables |= other.tables
        self.columns |= other.columns
        self.views |= other.views
        self.labels |= other.labels

    def without(self, other: Names) -> Names:
        return Names(
            self.tables - other.tables,
            self.columns - other.columns,
            self.views - other.views,
            self.labels - other.labels,
        )


@dataclass
class SchemaModel:
    """The schema a migration runs against, as far as the replayed DDL tells."""

    tables: dict[str, Table] = field(default_factory=dict)
    indexes: dict[str, Index] = field(default_factory=dict)
    enums: dict[str, list[str]] = field(default_factory=dict)
    # user functions (not procedures) -> their volatility letter (zdlint.sql.volatility)
    functions: dict[str, str] = field(default_factory=dict)
    # (table, trigger name) -> the function the trigger executes (lower case, no schema).
    triggers: dict[tuple[str, str], str] = field(default_factory=dict)
    # Functions declared RETURNS trigger: only a trigger can call them.
    trigger_only_functions: set[str] = field(default_factory=set)
    # User types (enum, composite, domain, range) -> the types they are built from.
    types: dict[str, frozenset[str]] = field(default_factory=dict)
    # Views and materialized views -> every name their query mentions (relations,
    # functions, types): a superset of what PostgreSQL records as their dependencies.
    views: dict[str, frozenset[str]] = field(default_factory=dict)
    materialized: set[str] = field(default_factory=set)  # the materialized ones of `views`
    # Functions and procedures (lower case) -> the known user types their signature or
    # body names.
    routine_types: dict[str, frozenset[str]] = field(default_factory=dict)
    # Routines that some object other than a view calls: triggers, defaults, constraints,
    # index expressions, policies, operators, casts, aggregates. Kept when that object goes (the
    # model does not track each use), so it can only say too much, never too little.
    routine_users: set[str] = field(default_factory=set)
    # When a release is being checked (the migrations added on a branch, `--diff-base`):
    # the names the running version of the application knows. Set just before the
    # release's first migration; names later migrations outside the release create are
    # added. A name not in it is one the running version never queries.
    released: Names | None = None

    # --- questions -----------------------------------------------------------------

    def column(self, table: str, column: str) -> Column | None:
        found = self.tables.get(table)
        return found.columns.get(column) if found else None

    def has_validated_not_null(self, table: str, column: str) -> bool:
        found = self.tables.get(table)
        if found is None:
            return False
        return any(c.validated and c.not_null_column == column for c in found.constraints.values())

    def is_partitioned(self, table: str) -> bool | None:
        found = self.tables.get(table)
        return None if found is None else found.partitioned

    def indexes_on(self, table: str) -> list[Index]:
        return [i for i in self.indexes.values() if i.table == table]

    def unique_keys(self, table: str) -> list[frozenset[str]] | None:
        """The column sets that identify at most one row of `table`: its primary key,
        unique constraints and complete unique indexes. None when the model has not seen
        the table created (its keys are unknown)."""
        found = self.tables.get(table)
        if found is None or not found.created:
            return None
        owners = [table]  # a partition has the indexes of its partitioned tables too
        while found is not None and found.partition_of and found.partition_of not in owners:
            owners.append(found.partition_of)
            found = self.tables.get(found.partition_of)
        return [
            frozenset(index.columns)
            for owner in owners
            for index in self.indexes_on(owner)
            if index.unique and index.valid and index.complete and index.columns
        ]

    def has_index_leading_with(self, table: str, columns: tuple[str, ...]) -> bool:
        """An index (or PK/unique constraint) whose first columns are `columns`."""
        width = len(columns)
        return any(set(index.columns[:width]) == set(columns) for index in self.indexes_on(table))

    def is_shared_table(self, table: str) -> bool:
        """A table every session sees: known to the model and not TEMP."""
        found = self.tables.get(table)
        return found is not None and not found.temporary

    def table_of_index(self, index: str) -> str | None:
        found = self.indexes.get(index)
        return found.table if found is not None else None

    def trigger_functions(self, table: str | None = None) -> set[str]:
        """Functions some trigger (on `table`, or on any table) executes."""
        return {f for (t, _), f in self.triggers.items() if table is None or t == table}

    def dependents(self, kind: ObjectType | None, name: str) -> list[str] | None:
        """What the model knows to depend on a table, view or type (`kind` as DROP
        names it); None when the model cannot tell: the object is not known from
        replayed DDL, or it is a kind whose users the model does not track."""
        if kind == ObjectType.OBJECT_TABLE:
            table = self.tables.get(name)
            if table is None or not table.created:
                return None
            found = [
                f"foreign key `{c.name}` of `{other.name}`"
                for other in self.tables.values()
                if other.name != name
                for c in other.constraints.values()
                if c.kind == "foreign" and c.references == name
            ]
            return found + self._users_of_relation(name)
        if kind in (ObjectType.OBJECT_VIEW, ObjectType.OBJECT_MATVIEW):
            if name not in self.views:
                return None
            return self._users_of_relation(name)
        if kind in (ObjectType.OBJECT_TYPE, ObjectType.OBJECT_DOMAIN):
            if name not in self.types:
                return None
            return self._users_of_type(name)
        if kind in ROUTINES:
            routine = name.lower()
            if routine not in self.routine_types:
                return None
            if routine in self.routine_users:
                return ["an object that calls it"]
            return [f"view `{v}`" for v, names in self.views.items() if routine in names]
        return None

    def _users_of_relation(self, name: str) -> list[str]:
        """Views that read a relation, and users of its row type."""
        views = [f"view `{v}`" for v, names in self.views.items() if v != name and name in names]
        return list(dict.fromkeys(views + self._users_of_type(name)))

    def _users_of_type(self, name: str) -> list[str]:
        columns = [
            f"column `{table.name}.{column.name}`"
            for table in self.tables.values()
            for column in table.columns.values()
            if column.type.name == name
        ]
        types = [f"type `{t}`" for t, parts in self.types.items() if name in parts]
        views = [f"view `{v}`" for v, names in self.views.items() if name in names]
        functions = [f"function `{f}`" for f, names in self.routine_types.items() if name in names]
        return columns + types + views + functions

    def sequence_table(self, sequence: str) -> str | None:
        """The table whose column takes its values from `sequence` (a serial column, OWNED
        BY, a `nextval('sequence')` DEFAULT): only that table's writers use it."""
        for table in self.tables.values():
            if _takes_from(table, sequence):
                return table.name
        return None

    def takes_from(self, table: str, sequence: str) -> bool:
        """Whether a column of `table` takes its values from `sequence` (see
        `sequence_table`); False for a table the model does not know."""
        known = self.tables.get(table)
        return known is not None and _takes_from(known, sequence)

    def names(self) -> Names:
        """The names this schema holds (see `Names`)."""
        return Names(
            set(self.tables),
            {(t.name, c) for t in self.tables.values() for c in t.columns},
            set(self.views),
            {(enum, label) for enum, labels in self.enums.items() for label in labels},
        )

    def unreleased(self) -> Names:
        """The names created by the release being checked: empty when no release is."""
        return Names() if self.released is None else self.names().without(self.released)

    # --- replay ----------------------------------------------------------------------

    def apply(self, node: ast.Node | None) -> None:
        """Update the model with one statement's effect; unknown statements change nothing."""
        handler = _HANDLERS.get(type(node))
        if handler is not None:
            handler(self, node)
        if node is not None and type(node) in _CALLERS:
            self.routine_users |= _routines_called(node)

    def create_unparsed_table(self, name: str, temporary: bool, if_not_exists: bool) -> None:
        """A CREATE TABLE the parser could not read: the name exists, its columns are unknown."""
        if not (if_not_exists and name in self.tables):
            self.tables[name] = Table(name, temporary=temporary)

    def end_session(self) -> None:
        """The migration's session ends: its TEMP tables (and their indexes and triggers) go."""
        for name in [t.name for t in self.tables.values() if t.temporary]:
            self._forget_table(name)

    def _forget_table(self, name: str) -> None:
        self.tables.pop(name, None)
        for index in [i for i in self.indexes.values() if i.table == name]:
            self.indexes.pop(index.name, None)
        for key in [k for k in self.triggers if k[0] == name]:
            del self.triggers[key]


_PERSISTENCE_TOKENS = {"GLOBAL", "LOCAL", "TEMP", "TEMPORARY", "UNLOGGED"}
_NAME_TOKENS = {"IDENT", "UIDENT"}
_NAME_KINDS = {"UNRESERVED_KEYWORD", "COL_NAME_KEYWORD"}  # keywords that may name a table
_AFTER_NAME = {"ASCII_40", "AS", "PARTITION"}  # `(`, AS, PARTITION OF


def table_created_by(text: str) -> tuple[str, bool, bool] | None:
    """(name, temporary, if not exists) of the table a statement the parser rejected
    clearly creates.

    Read from the scanner's tokens: `CREATE [TEMP] TABLE [IF NOT EXISTS] [schema.]name`
    followed by `(`, AS or PARTITION OF. A syntax error further on does not make the
    table any less created for the statements after it, once the author fixes it.
    """
    from pglast import parser as pg_parser

    try:
        tokens = [t for t in pg_parser.scan(text) if t.name not in ("SQL_COMMENT", "C_COMMENT")]
    except pg_parser.ParseError:
        return None
    names = [t.name for t in tokens]
    if names[:1] != ["CREATE"]:
        return None
    i = 1
    temporary = False
    while i < len(names) and names[i] in _PERSISTENCE_TOKENS:
        temporary = temporary or names[i] in ("TEMP", "TEMPORARY")
        i += 1
    if names[i : i + 1] != ["TABLE"]:
        return None
    i += 1
    if_not_exists = names[i : i + 3] == ["IF_P", "NOT", "EXISTS"]
    if if_not_exists:
        i += 3
    parts: list[str] = []
    while i < len(tokens):
        token = tokens[i]
        if token.name not in _NAME_TOKENS and token.kind not in _NAME_KINDS:
            return None
        parts.append(_identifier(text[token.start : token.end + 1]))
        if names[i + 1 : i + 2] != ["ASCII_46"]:  # no `.`: the last part
            break
        i += 2
    if not parts or i + 1 >= len(names) or names[i + 1] not in _AFTER_NAME:
        return None
    return parts[-1], temporary, if_not_exists


def _identifier(written: str) -> str:
    """An identifier as PostgreSQL folds it: quoted kept as written, others lower case."""
    if written.startswith('"') and written.endswith('"') and len(written) >= 2:
        return written[1:-1].replace('""', '"')
    return "".join(c.lower() if c.isascii() else c for c in written)  # as PostgreSQL folds


def indexes_created(nodes: list[ast.Node]) -> set[tuple[str, tuple[str, ...]]]:
    """(table, leading columns) of every index a file creates, constraints included."""
    scratch = SchemaModel()
    for node in nodes:
        scratch.apply(node)
    return {(index.table, index.columns) for index in scratch.indexes.values()}


def not_null_column(expr: object) -> str | None:
    """The column of a `col IS NOT NULL` expression, else None."""
    if (
        isinstance(expr, ast.NullTest)
        and expr.nulltesttype == NullTestType.IS_NOT_NULL
        and isinstance(expr.arg, ast.ColumnRef)
    ):
        names = strings(expr.arg.fields)
        return names[-1] if names else None
    return None


_KINDS = {
    ConstrType.CONSTR_CHECK: "check",
    ConstrType.CONSTR_FOREIGN: "foreign",
    ConstrType.CONSTR_UNIQUE: "unique",
    ConstrType.CONSTR_PRIMARY: "primary",
    ConstrType.CONSTR_EXCLUSION: "exclusion",
    ConstrType.CONSTR_NOTNULL: "not_null",
}


def _add_constraint(
    model: SchemaModel, table: Table, con: ast.Constraint, column: str = ""
) -> None:
    kind = _KINDS.get(con.contype) if con.contype is not None else None
    if kind is None:
        return
    columns = tuple(strings(con.keys) or strings(con.fk_attrs)) or ((column,) if column else ())
    if kind == "not_null":
        target = column or (columns[0] if columns else "")
        if target in table.columns and not con.skip_validation:
            table.columns[target].not_null = True
        if con.skip_validation and con.conname:  # PostgreSQL 18: NOT NULL … NOT VALID
            table.constraints[con.conname] = Constraint(
                con.conname, kind, False, (target,), not_null_column=target
            )
        return
    if kind == "primary":
        for name in columns:
            if name in table.columns:
                table.columns[name].not_null = True
    name = constraint_name(table.name, con, column)
    table.constraints[name] = Constraint(
        name,
        kind,
        validated=not con.skip_validation,
        columns=columns,
        not_null_column=not_null_column(con.raw_expr) if kind == "check" else None,
        references=relation_name(con.pktable) if kind == "foreign" else None,
        definition=con,
    )
    if kind in ("unique", "primary", "exclusion"):
        index_name = con.indexname or name
        existing = model.indexes.get(index_name)
        model.indexes[index_name] = Index(
            index_name,
            table.name,
            existing.columns if existing else columns,
            unique=True,
            # an exclusion constraint is no equality key; USING INDEX keeps the index's shape
            complete=kind != "exclusion" and (existing.complete if existing else True),
        )


_SERIAL = frozenset({"serial", "serial4", "bigserial", "serial8", "smallserial", "serial2"})


def _takes_from(table: Table, sequence: str) -> bool:
    return any(
        column.owned_sequence == sequence or sequence in column.sequences()
        for column in table.columns.values()
    )


def nextval_sequences(default: object) -> set[str]:
    """The sequences a DEFAULT takes values from: `nextval('s'::regclass)`."""
    found: set[str] = set()
    for call in walk(default):
        if isinstance(call, ast.FuncCall) and last_name(call.funcname).lower() == "nextval":
            for argument in walk(call.args or ()):
                if isinstance(argument, ast.A_Const) and isinstance(argument.val, ast.String):
                    found.add((argument.val.sval or "").split(".")[-1].strip('"'))
    return found


def _nextval(sequence: str) -> ast.FuncCall:
    """`nextval('sequence'::regclass)`, the default serial gives its column."""
    regclass = ast.TypeName(names=(ast.String(sval="regclass"),), typemod=-1)
    name = ast.TypeCast(arg=ast.A_Const(val=ast.String(sval=sequence)), typeName=regclass)
    return ast.FuncCall(funcname=(ast.String(sval="nextval"),), args=(name,))


def _column_from_def(table: Table, model: SchemaModel, column: ast.ColumnDef) -> None:
    if not column.colname:
        return
    entry = Column(column.colname, column_type(column.typeName), bool(column.is_not_null))
    table.columns[column.colname] = entry
    if (
        column.typeName is not None
        and not column.typeName.arrayBounds
        and type_name(column.typeName) in _SERIAL
    ):
        # what PostgreSQL makes of serial: a sequence the column owns, and its default
        entry.owned_sequence = object_name(table.name, column.colname, "seq")
        entry.default = _nextval(entry.owned_sequence)
        entry.not_null = True
    for con in column.constraints or ():
        if isinstance(con, ast.Constraint):
            if con.contype == ConstrType.CONSTR_DEFAULT:
                entry.default = con.raw_expr
            if con.contype == ConstrType.CONSTR_IDENTITY:
                entry.identity = entry.not_null = True
            if con.contype in (ConstrType.CONSTR_NOTNULL, ConstrType.CONSTR_PRIMARY):
                entry.not_null = True
            if con.contype != ConstrType.CONSTR_NOTNULL:
                _add_constraint(model, table, con, column.colname)


def _create_table(model: SchemaModel, node: ast.CreateStmt) -> None:
    name = relation_name(node.relation)
    if node.if_not_exists and name in model.tables:
        return
    table = Table(
        name, partitioned=node.partspec is not None, temporary=is_temporary(node.relation)
    )
    if node.partspec is not None:
        elements = node.partspec.partParams or ()
        if all(e.name for e in elements):
            table.partition_key = tuple(e.name for e in elements)
    if node.partbound is not None and node.inhRelations:
        table.partition_of = relation_name(node.inhRelations[0])
        parent = model.tables.get(table.partition_of)
        if parent is not None:
            for column in parent.columns.values():
                table.columns[column.name] = Column(column.name, column.type, column.not_null)
    model.tables[name] = table
    for element in node.tableElts or ():
        if isinstance(element, ast.ColumnDef):
            _column_from_def(table, model, element)
    for element in node.tableElts or ():
        if isinstance(element, ast.Constraint):
            _add_constraint(model, table, element)


def _index_columns(node: ast.IndexStmt) -> tuple[str, ...]:
    columns = []
    for param in node.indexParams or ():
        if not isinstance(param, ast.IndexElem) or not param.name:
            break  # an expression: later columns cannot serve a plain lookup
        columns.append(param.name)
    return tuple(columns)


def _create_index(model: SchemaModel, node: ast.IndexStmt) -> None:
    table = relation_name(node.relation)
    name = index_name(node)
    if node.if_not_exists and name in model.indexes:
        return
    columns = _index_columns(node)
    complete = node.whereClause is None and len(columns) == len(node.indexParams or ())
    model.indexes[name] = Index(
        name, table, columns, bool(node.unique), complete=complete, definition=node
    )


ROUTINES = {ObjectType.OBJECT_FUNCTION, ObjectType.OBJECT_PROCEDURE, ObjectType.OBJECT_ROUTINE}


def dropped_name(obj: object) -> str:
    """The bare name of one object of a DROP: a relation, type or routine."""
    if isinstance(obj, ast.TypeName):
        return last_name(obj.names)
    if isinstance(obj, ast.ObjectWithArgs):
        return last_name(obj.objname)
    if isinstance(obj, tuple):
        return last_name(obj)
    return ""


def _drop(model: SchemaModel, node: ast.DropStmt) -> None:
    for obj in node.objects or ():
        name = dropped_name(obj)
        if node.removeType == ObjectType.OBJECT_TABLE:
            model._forget_table(name)
        elif node.removeType == ObjectType.OBJECT_INDEX:
            model.indexes.pop(name, None)
        elif node.removeType in (ObjectType.OBJECT_TYPE, ObjectType.OBJECT_DOMAIN):
            model.enums.pop(name, None)
            model.types.pop(name, None)
        elif node.removeType in (ObjectType.OBJECT_VIEW, ObjectType.OBJECT_MATVIEW):
            model.views.pop(name, None)
            model.materialized.discard(name)
        elif node.removeType == ObjectType.OBJECT_TRIGGER and isinstance(obj, tuple):
            names = strings(obj)
            if len(names) >= 2:
                model.triggers.pop((names[-2], names[-1]), None)
        elif node.removeType in ROUTINES:
            function = name.lower()
            model.routine_types.pop(function, None)
            model.functions.pop(name, None)
            model.trigger_only_functions.discard(function)
            if node.behavior == DropBehavior.DROP_CASCADE:
                for key in [k for k, f in model.triggers.items() if f == function]:
                    del model.triggers[key]


def _create_trigger(model: SchemaModel, node: ast.CreateTrigStmt) -> None:
    if node.trigname and node.funcname:
        key = (relation_name(node.relation), node.trigname)
        model.triggers[key] = last_name(node.funcname).lower()


def _rename(model: SchemaModel, node: ast.RenameStmt) -> None:
    if not node.newname:
        return
    if node.renameType in (ObjectType.OBJECT_TYPE, ObjectType.OBJECT_DOMAIN):
        old_type = last_name(node.object) if isinstance(node.object, tuple) else ""
        _move(model.types, old_type, node.newname)
        _move(model.enums, old_type, node.newname)
        return
    if node.renameType in ROUTINES and isinstance(node.object, ast.ObjectWithArgs):
        old_routine = last_name(node.object.objname)
        _move(model.routine_types, old_routine.lower(), node.newname.lower())
        _move(model.functions, old_routine, node.newname)
        return
    if node.relation is None:
        return
    if node.renameType in (ObjectType.OBJECT_VIEW, ObjectType.OBJECT_MATVIEW):
        old_view = relation_name(node.relation)
        _move(model.views, old_view, node.newname)
        if old_view in model.materialized:
            model.materialized.remove(old_view)
            model.materialized.add(node.newname)
        return
    old = relation_name(node.relation)
    if node.renameType == ObjectType.OBJECT_TRIGGER and node.subname:
        function = model.triggers.pop((old, node.subname), None)
        if function is not None:
            model.triggers[(old, node.newname)] = function
    elif node.renameType == ObjectType.OBJECT_TABLE and old in model.tables:
        table = model.tables.pop(old)
        table.name = node.newname
        model.tables[node.newname] = table
        for index in model.indexes.values():
            if index.table == old:
                index.table = node.newname
        for key in [k for k in model.triggers if k[0] == old]:
            model.triggers[(node.newname, key[1])] = model.triggers.pop(key)
    elif node.renameType == ObjectType.OBJECT_COLUMN and old in model.tables:
        table = model.tables[old]
        column = table.columns.pop(node.subname or "", None)
        if column is not None:
            column.name = node.newname
            table.columns[node.newname] = column
            for constraint in table.constraints.values():
                if constraint.not_null_column == node.subname:
                    constraint.not_null_column = node.newname
                constraint.columns = _renamed(constraint.columns, node.subname, node.newname)
            for index in model.indexes_on(old):
                index.columns = _renamed(index.columns, node.subname, node.newname)
    elif node.renameType == ObjectType.OBJECT_INDEX and old in model.indexes:
        index = model.indexes.pop(old)
        index.name = node.newname
        model.indexes[node.newname] = index


def _move(entries: dict[str, Any], old: str, new: str) -> None:
    if old in entries:
        entries[new] = entries.pop(old)


def _renamed(names: tuple[str, ...], old: str | None, new: str) -> tuple[str, ...]:
    return tuple(new if name == old else name for name in names)


def _alter_table(model: SchemaModel, node: ast.AlterTableStmt) -> None:
    name = relation_name(node.relation)
    if node.objtype != ObjectType.OBJECT_TABLE:
        return
    table = model.tables.get(name)
    if table is None:
        table = model.tables[name] = Table(name, created=False)
    for cmd in node.cmds or ():
        subtype = cmd.subtype
        if subtype == AlterTableType.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef):
            _column_from_def(table, model, cmd.def_)
        elif subtype == AlterTableType.AT_DropColumn and cmd.name:
            table.columns.pop(cmd.name, None)
            # PostgreSQL drops the constraints and indexes that involve the column with it
            for constraint in [c for c in table.constraints.values() if cmd.name in c.columns]:
                del table.constraints[constraint.name]
                model.indexes.pop(constraint.name, None)
            for index in [i for i in model.indexes.values() if i.table == name]:
                if cmd.name in index.columns:
                    del model.indexes[index.name]
        elif subtype == AlterTableType.AT_AlterColumnType and isinstance(cmd.def_, ast.ColumnDef):
            column = table.columns.get(cmd.name or "")
            if column is not None:
                column.type = column_type(cmd.def_.typeName)
        elif subtype == AlterTableType.AT_ColumnDefault and cmd.name in table.columns:
            table.columns[cmd.name].default = cmd.def_
        elif subtype == AlterTableType.AT_AddIdentity and cmd.name in table.columns:
            table.columns[cmd.name].identity = True
        elif subtype == AlterTableType.AT_DropIdentity and cmd.name in table.columns:
            table.columns[cmd.name].identity = False
        elif subtype == AlterTableType.AT_SetNotNull and cmd.name in table.columns:
            table.columns[cmd.name].not_null = True
        elif subtype == AlterTableType.AT_DropNotNull and cmd.name in table.columns:
            table.columns[cmd.name].not_null = False
        elif subtype == AlterTableType.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
            _add_constraint(model, table, cmd.def_)
        elif subtype == AlterTableType.AT_ValidateConstraint and cmd.name in table.constraints:
            constraint = table.constraints[cmd.name]
            constraint.validated = True
            if constraint.kind == "not_null" and constraint.not_null_column in table.columns:
                table.columns[constraint.not_null_column].not_null = True
        elif subtype == AlterTableType.AT_DropConstraint and cmd.name:
            table.constraints.pop(cmd.name, None)
            model.indexes.pop(cmd.name, None)
        elif subtype == AlterTableType.AT_AttachPartition and isinstance(
            cmd.def_, ast.PartitionCmd
        ):
            child = model.tables.get(relation_name(cmd.def_.name))
            if child is not None:
                child.partition_of = name
        elif subtype == AlterTableType.AT_DetachPartition and isinstance(
            cmd.def_, ast.PartitionCmd
        ):
            child = model.tables.get(relation_name(cmd.def_.name))
            if child is not None:
                child.partition_of = None


def _do_option(node: ast.DoStmt, name: str) -> str | None:
    """The `AS` body or `LANGUAGE` of a DO statement, as written."""
    for option in node.args or ():
        if (
            isinstance(option, ast.DefElem)
            and option.defname == name
            and isinstance(option.arg, ast.String)
        ):
            return option.arg.sval
    return None


def _do(model: SchemaModel, node: ast.DoStmt) -> None:
    """The SQL a PL/pgSQL DO block runs (the statements written in it, not EXECUTE'd
    strings), as if it ran on its own: each branch of an IF is taken."""
    from zdlint.sql.plpgsql import embedded_queries

    body = _do_option(node, "as")
    language = _do_option(node, "language") or "plpgsql"
    if not body or language.lower() != "plpgsql" or "$zdlint$" in body:
        return
    for query in embedded_queries(f"DO $zdlint${body}$zdlint$"):
        model.apply(query.node)


def _create_enum(model: SchemaModel, node: ast.CreateEnumStmt) -> None:
    name = last_name(node.typeName)
    model.enums[name] = strings(node.vals)
    model.types[name] = frozenset()


def _create_composite(model: SchemaModel, node: ast.CompositeTypeStmt) -> None:
    parts = frozenset(
        type_name(c.typeName) for c in node.coldeflist or () if isinstance(c, ast.ColumnDef)
    )
    model.types[relation_name(node.typevar)] = parts


def _create_domain(model: SchemaModel, node: ast.CreateDomainStmt) -> None:
    model.types[last_name(node.domainname)] = frozenset({type_name(node.typeName)})


def _create_range(model: SchemaModel, node: ast.CreateRangeStmt) -> None:
    parts = frozenset(
        type_name(p.arg)
        for p in node.params or ()
        if isinstance(p, ast.DefElem) and isinstance(p.arg, ast.TypeName)
    )
    model.types[last_name(node.typeName)] = parts


def _mentioned(node: object) -> frozenset[str]:
    """Every relation, function and type name a query mentions."""
    names: set[str] = set()
    for item in walk(node):
        if isinstance(item, ast.RangeVar):
            names.add(relation_name(item))
        elif isinstance(item, ast.FuncCall):
            names.add(last_name(item.funcname))
        elif isinstance(item, ast.TypeName):
            names.add(type_name(item))
    return frozenset(names)


def _create_view(model: SchemaModel, node: ast.ViewStmt) -> None:
    model.views[relation_name(node.view)] = _mentioned(node.query)


def _create_table_as(model: SchemaModel, node: ast.CreateTableAsStmt) -> None:
    if node.into is None:
        return
    name = relation_name(node.into.rel)
    if node.objtype == ObjectType.OBJECT_MATVIEW:
        model.views[name] = _mentioned(node.query)
        model.materialized.add(name)
    elif node.objtype == ObjectType.OBJECT_TABLE:
        model.tables.setdefault(name, Table(name))


_IDENTIFIER = re.compile(r'"((?:[^"]|"")+)"|([A-Za-z_][A-Za-z0-9_$]*)')


def _create_function(model: SchemaModel, node: ast.CreateFunctionStmt) -> None:
    """A routine's user types: in its signature (PostgreSQL records those as
    dependencies) or named in its body (which PostgreSQL does not track); whether only a
    trigger can call it (RETURNS trigger); a function's volatility."""
    if not node.funcname:
        return
    name = last_name(node.funcname).lower()
    if type_name(node.returnType) == "trigger":
        model.trigger_only_functions.add(name)
    else:  # CREATE OR REPLACE cannot change the return type, but a new overload may
        model.trigger_only_functions.discard(name)
    names = {type_name(p.argType) for p in node.parameters or () if p.argType is not None}
    names.add(type_name(node.returnType))
    for option in node.options or ():
        if (
            isinstance(option, ast.DefElem)
            and option.defname == "as"
            and isinstance(option.arg, tuple)
        ):
            for body in strings(option.arg):
                for quoted, bare in _IDENTIFIER.findall(body):
                    names.add(quoted.replace('""', '"') if quoted else bare.lower())
    model.routine_types[name] = frozenset(names & set(model.types))
    if not node.is_procedure:
        # CREATE FUNCTION without a marker makes a VOLATILE function
        model.functions[last_name(node.funcname)] = volatility_word(node.options) or VOLATILE


def _alter_enum(model: SchemaModel, node: ast.AlterEnumStmt) -> None:
    name = last_name(node.typeName)
    if node.newVal and node.oldVal is None:
        values = model.enums.setdefault(name, [])
        if node.newVal not in values:
            values.append(node.newVal)
    elif node.oldVal and node.newVal and name in model.enums:  # RENAME VALUE
        model.enums[name] = [node.newVal if v == node.oldVal else v for v in model.enums[name]]


# Statements that create objects which call routines (PostgreSQL records the calls as
# dependencies, so DROP FUNCTION … CASCADE drops those objects). Views keep their own
# list of names (`SchemaModel.views`).
_CALLERS = {
    ast.CreateStmt,
    ast.AlterTableStmt,
    ast.IndexStmt,
    ast.CreateTrigStmt,
    ast.CreateEventTrigStmt,
    ast.CreatePolicyStmt,
    ast.AlterPolicyStmt,
    ast.CreateDomainStmt,
    ast.AlterDomainStmt,
    ast.DefineStmt,
    ast.CreateCastStmt,
    ast.RuleStmt,
    ast.CreateFunctionStmt,
}


def _routines_called(node: ast.Node) -> set[str]:
    """Names (lower case) of the routines a statement's objects call or name."""
    names: set[str] = set()
    if isinstance(node, (ast.CreateTrigStmt, ast.CreateEventTrigStmt)):
        names.add(last_name(node.funcname).lower())
    for item in walk(_expressions(node)):
        if isinstance(item, ast.FuncCall):
            names.add(last_name(item.funcname).lower())
        elif isinstance(item, ast.ObjectWithArgs):
            names.add(last_name(item.objname).lower())
        elif isinstance(item, ast.DefElem) and isinstance(item.arg, ast.TypeName):
            names.add(type_name(item.arg).lower())  # CREATE OPERATOR/AGGREGATE: function = f
    return names


def _expressions(node: ast.Node) -> object:
    """The parts of a statement that can call routines: for the frequent table and
    index DDL only their expressions (walking whole CREATE TABLE trees is slow)."""
    if isinstance(node, ast.CreateStmt):
        return (node.partspec, *_constraint_expressions(node.tableElts))
    if isinstance(node, ast.AlterTableStmt):
        return tuple(
            cmd.def_
            if cmd.subtype == AlterTableType.AT_ColumnDefault
            else tuple(_constraint_expressions((cmd.def_,)))
            for cmd in node.cmds or ()
            if isinstance(cmd, ast.AlterTableCmd) and cmd.subtype in _CALLING_COMMANDS
        )
    if isinstance(node, ast.IndexStmt):
        return (node.indexParams, node.whereClause)
    return node


_CALLING_COMMANDS = {
    AlterTableType.AT_ColumnDefault,
    AlterTableType.AT_AddColumn,
    AlterTableType.AT_AddConstraint,
}


def _constraint_expressions(elements: tuple | None) -> list[object]:  # type: ignore[type-arg]
    """DEFAULT, CHECK, GENERATED and EXCLUDE … WHERE expressions of table elements."""
    found: list[object] = []
    for element in elements or ():
        constraints = (
            element.constraints or () if isinstance(element, ast.ColumnDef) else (element,)
        )
        for con in constraints:
            if isinstance(con, ast.Constraint):
                found += [con.raw_expr, con.where_clause, con.exclusions]
    return found


def _alter_function(model: SchemaModel, node: ast.AlterFunctionStmt) -> None:
    marker = volatility_word(node.actions)
    name = last_name(node.func.objname) if node.func is not None else ""
    if marker is not None and name in model.functions:
        model.functions[name] = marker


def _alter_sequence(model: SchemaModel, node: ast.AlterSeqStmt | ast.CreateSeqStmt) -> None:
    """`OWNED BY table.column` of ALTER or CREATE SEQUENCE (pg_dump writes it for every
    serial column)."""
    for option in node.options or ():
        if (
            isinstance(option, ast.DefElem)
            and option.defname == "owned_by"
            and isinstance(option.arg, tuple)
        ):
            names = strings(option.arg)
            if len(names) < 2:  # OWNED BY NONE
                continue
            table = model.tables.get(names[-2])
            column = table.columns.get(names[-1]) if table is not None else None
            if column is not None and node.sequence is not None:
                column.owned_sequence = relation_name(node.sequence)


_HANDLERS: dict[type, Callable[[SchemaModel, Any], None]] = {
    ast.CreateStmt: _create_table,
    ast.CreateTableAsStmt: _create_table_as,
    ast.IndexStmt: _create_index,
    ast.DropStmt: _drop,
    ast.RenameStmt: _rename,
    ast.AlterTableStmt: _alter_table,
    ast.CreateEnumStmt: _create_enum,
    ast.AlterEnumStmt: _alter_enum,
    ast.CreateTrigStmt: _create_trigger,
    ast.CompositeTypeStmt: _create_composite,
    ast.CreateDomainStmt: _create_domain,
    ast.CreateRangeStmt: _create_range,
    ast.ViewStmt: _create_view,
    ast.CreateFunctionStmt: _create_function,
    ast.AlterFunctionStmt: _alter_function,
    ast.DoStmt: _do,
    ast.CreateSeqStmt: _alter_sequence,
    ast.AlterSeqStmt: _alter_sequence,
}
