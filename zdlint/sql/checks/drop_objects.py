"""ZD306 / ZD307 / ZD308: dropping or renaming types, functions and views, and CASCADE.

Objects created earlier in this file are not in use by the running version; objects the
same transaction creates again under their name are replaced, not removed
(`MigrationState.missing_at_commit`); the schema model says which types and which
objects of a CASCADE nothing depends on (`SchemaModel.dependents`).
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import DropBehavior, ObjectType

from zdlint.findings import Hit
from zdlint.sql.identifiers import quote_qualified
from zdlint.sql.names import last_name, qualified_name, quote_literal, strings
from zdlint.sql.parse import Statement
from zdlint.sql.schema import ROUTINES
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
    if kind in ROUTINES:
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


_TYPES = (ObjectType.OBJECT_TYPE, ObjectType.OBJECT_DOMAIN)


def _unused(kind: ObjectType | None, name: str, state: MigrationState) -> bool:
    """The schema model knows the object and that nothing depends on it."""
    return state.schema.dependents(kind, name.split(".")[-1]) == []


def drop_object(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    node = stmt.node
    assert isinstance(node, ast.DropStmt)
    kind = _KINDS.get(node.removeType)
    if kind is None:
        return
    names = state.missing_at_commit(node, node.removeType, _existing(node, state))
    if node.removeType in ROUTINES:  # a trigger function whose triggers are gone
        names = [n for n in names if not state.is_unused_trigger_function(n.split(".")[-1])]
    elif node.removeType in _TYPES:
        # A type no column, type, view or function uses any more cannot be named by
        # the running version's rows or calls.
        names = [n for n in names if not _unused(node.removeType, n, state)]
    if names:
        yield Hit(
            {
                "action": f"Dropping {kind} `{', '.join(names)}`",
                "uses": "uses it",
                "target": f"the {kind}",
            }
        )
    if node.removeType == ObjectType.OBJECT_TYPE:
        yield from _enum_replaced_with_fewer_labels(node, state)


_LABELS_SHOWN = 5


def _enum_replaced_with_fewer_labels(node: ast.DropStmt, state: MigrationState) -> Iterator[Hit]:
    """`ALTER TYPE s RENAME TO s_old; CREATE TYPE s AS ENUM (…); … DROP TYPE s_old`:
    the name lives on, but labels the new enum lacks are gone with the old type."""
    for obj in node.objects or ():
        lost = state.enum_labels_lost(object_name(obj).split(".")[-1])
        if lost is None or not lost[1]:
            continue
        shown = [quote_literal(label) for label in lost[1][:_LABELS_SHOWN]]
        more = len(lost[1]) - len(shown)
        labels = ", ".join(shown) + (f" and {more} more" if more else "")
        yield Hit(
            {
                "action": f"Replacing enum `{lost[0]}` with a type that lacks {labels}",
                "uses": "writes or compares those values",
                "target": labels,
            }
        )


def rename_object(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    node = stmt.node
    if isinstance(node, ast.AlterEnumStmt):
        yield from _rename_label(node, state)
        return
    assert isinstance(node, ast.RenameStmt)
    kind = _KINDS.get(node.renameType)
    if kind is None:
        return
    name = object_name(node.relation if node.relation is not None else node.object)
    if not name or created_here(node.renameType, name, state):
        return
    if state.missing_at_commit(node, node.renameType, [name]):
        plan = (
            f"Create the new {kind} beside the old one (a view or wrapper function can "
            "forward to it), switch the application, drop the old one in a later release"
        )
        yield Hit({"kind": kind, "name": name, "new": node.newname or "", "plan": plan})


def _rename_label(node: ast.AlterEnumStmt, state: MigrationState) -> Iterator[Hit]:
    """`ALTER TYPE t RENAME VALUE 'a' TO 'b'`: the running version still writes 'a'.
    Quiet only when the model shows the running version never knew the label (the type
    or the label is new in this file)."""
    if not node.oldVal or not node.newVal:
        return
    type_ = last_name(node.typeName)
    known = state.enums_before_file.get(type_)
    if known is not None and node.oldVal not in known:
        return  # a label this file added
    if known is None and type_ in state.created_types:
        return  # a type this file created
    add = f"ALTER TYPE {quote_qualified('.'.join(strings(node.typeName)))} ADD VALUE"
    plan = (
        f"Add the new label beside the old one (`{add} {quote_literal(node.newVal)};`), "
        "switch the application and its rows to it, and leave the old label unused "
        "(PostgreSQL cannot drop an enum label)"
    )
    yield Hit(
        {
            "kind": f"enum `{type_}` label",
            "name": quote_literal(node.oldVal),
            "new": quote_literal(node.newVal),
            "plan": plan,
        }
    )


def drop_cascade(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    node = stmt.node
    assert isinstance(node, ast.DropStmt)
    if node.behavior != DropBehavior.DROP_CASCADE:
        return
    # CASCADE drops nothing more when the model knows every user of the object and
    # there is none; objects it does not track (functions, schemas…) keep the finding.
    names = [n for n in _existing(node, state) if not _unused(node.removeType, n, state)]
    if names:
        kind = _CASCADE_KINDS.get(node.removeType, "object")
        yield Hit({"kind": kind, "name": ", ".join(names), "keyword": kind.upper()})


CHECKS = [
    ("ZD306", [ast.DropStmt], drop_object),
    ("ZD307", [ast.RenameStmt, ast.AlterEnumStmt], rename_object),
    ("ZD308", [ast.DropStmt], drop_cascade),
]
