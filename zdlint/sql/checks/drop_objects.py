"""ZD306 / ZD307 / ZD308: dropping or renaming types, functions and views, and CASCADE.

Objects created earlier in this file are not in use by the running version.
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import DropBehavior, ObjectType

from zdlint.findings import Hit
from zdlint.sql.names import qualified_name, strings
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState

_KINDS: dict[ObjectType | None, str] = {
    ObjectType.OBJECT_TYPE: "type",
    ObjectType.OBJECT_DOMAIN: "domain",
    ObjectType.OBJECT_FUNCTION: "function",
    ObjectType.OBJECT_PROCEDURE: "procedure",
    ObjectType.OBJECT_ROUTINE: "routine",
    ObjectType.OBJECT_VIEW: "view",
    ObjectType.OBJECT_MATVIEW: "materialized view",
}
_CASCADE_KINDS: dict[ObjectType | None, str] = {
    **_KINDS,
    ObjectType.OBJECT_TABLE: "table",
    ObjectType.OBJECT_SCHEMA: "schema",
    ObjectType.OBJECT_INDEX: "index",
    ObjectType.OBJECT_SEQUENCE: "sequence",
    ObjectType.OBJECT_EXTENSION: "extension",
}


def object_name(obj: object) -> str:
    """The written name of one object of a DROP or RENAME (schema kept)."""
    if isinstance(obj, ast.TypeName):
        return ".".join(strings(obj.names))
    if isinstance(obj, ast.ObjectWithArgs):
        return ".".join(strings(obj.objname))
    if isinstance(obj, ast.RangeVar):
        return qualified_name(obj)
    if isinstance(obj, ast.String):
        return obj.sval or ""
    if isinstance(obj, tuple):
        return ".".join(strings(obj))
    return ""


def created_here(kind: object, name: str, state: MigrationState) -> bool:
    """Created earlier in this file (so the running version cannot be using it)."""
    bare = name.split(".")[-1]
    if kind in _KINDS and bare in state.renamed_in_file:
        return True
    if kind in (ObjectType.OBJECT_TYPE, ObjectType.OBJECT_DOMAIN):
        return bare in state.created_types
    if kind in (ObjectType.OBJECT_FUNCTION, ObjectType.OBJECT_PROCEDURE, ObjectType.OBJECT_ROUTINE):
        return bare.lower() in state.routines
    if kind in (ObjectType.OBJECT_VIEW, ObjectType.OBJECT_MATVIEW):
        return bare in state.created_views
    if kind == ObjectType.OBJECT_TABLE:
        return state.is_new_table(bare)
    if kind == ObjectType.OBJECT_INDEX:
        return bare in state.created_indexes
    return False


def _existing(node: ast.DropStmt, state: MigrationState) -> list[str]:
    names = [object_name(obj) for obj in node.objects or ()]
    return [n for n in names if n and not created_here(node.removeType, n, state)]


def drop_object(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    node = stmt.node
    assert isinstance(node, ast.DropStmt)
    kind = _KINDS.get(node.removeType)
    if kind is None:
        return
    names = _existing(node, state)
    if node.removeType in _ROUTINES:  # a trigger function whose triggers are gone
        names = [n for n in names if not state.is_unused_trigger_function(n.split(".")[-1])]
    elif node.removeType == ObjectType.OBJECT_TYPE:  # an enum no column uses any more
        names = [n for n in names if not state.schema.is_unused_enum(n.split(".")[-1])]
    # Dropped and created again atomically: nobody sees a gap.
    taken = _taken_later(node, state)
    names = [n for n in names if n.split(".")[-1] not in taken]
    if names:
        yield Hit({"kind": kind, "name": ", ".join(names)})


_ROUTINES = {ObjectType.OBJECT_FUNCTION, ObjectType.OBJECT_PROCEDURE, ObjectType.OBJECT_ROUTINE}


def _taken_later(node: ast.Node, state: MigrationState) -> set[str]:
    """Names of types, functions and views that later statements of the same transaction
    create, or give an object by RENAME: the running version finds them at COMMIT."""
    later, _closed = state.rest_of_transaction(node)
    taken: set[str] = set()
    for other in later:
        taken |= _created_names(other)
        if isinstance(other, ast.RenameStmt) and other.renameType in _KINDS and other.newname:
            taken.add(other.newname)
    return taken


def _created_names(node: ast.Node) -> set[str]:
    if isinstance(node, ast.ViewStmt):
        return {node.view.relname} if node.view and node.view.relname else set()
    if isinstance(node, ast.CreateTableAsStmt) and node.into is not None:
        return {node.into.rel.relname} if node.into.rel and node.into.rel.relname else set()
    if isinstance(node, ast.CreateFunctionStmt):
        return {strings(node.funcname)[-1]} if node.funcname else set()
    if isinstance(node, (ast.CreateEnumStmt, ast.CreateDomainStmt, ast.CompositeTypeStmt)):
        names = getattr(node, "typeName", None) or getattr(node, "domainname", None)
        if isinstance(names, tuple):
            return {strings(names)[-1]} if strings(names) else set()
        typevar = getattr(node, "typevar", None)
        return {typevar.relname} if typevar is not None and typevar.relname else set()
    return set()


def rename_object(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    node = stmt.node
    assert isinstance(node, ast.RenameStmt)
    kind = _KINDS.get(node.renameType)
    if kind is None:
        return
    name = object_name(node.relation if node.relation is not None else node.object)
    if not name or created_here(node.renameType, name, state):
        return
    if name.split(".")[-1] not in _taken_later(node, state):  # else the name comes back
        yield Hit({"kind": kind, "name": name, "new": node.newname or ""})


def drop_cascade(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    node = stmt.node
    assert isinstance(node, ast.DropStmt)
    if node.behavior != DropBehavior.DROP_CASCADE:
        return
    names = _existing(node, state)
    if names:
        kind = _CASCADE_KINDS.get(node.removeType, "object")
        yield Hit({"kind": kind, "name": ", ".join(names), "keyword": kind.upper()})


CHECKS = [
    ("ZD306", [ast.DropStmt], drop_object),
    ("ZD307", [ast.RenameStmt], rename_object),
    ("ZD308", [ast.DropStmt], drop_cascade),
]
