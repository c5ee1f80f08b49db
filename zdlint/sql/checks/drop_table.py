"""ZD305: dropping a table the running version may still use.

A table the same transaction creates again under its name with the columns it had
(CREATE TABLE), or rebuilds from a query (CREATE TABLE … AS: a derived table refreshed,
its columns are the query's), is replaced, not removed: the running version finds a
table of that name before and after COMMIT.
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import ObjectType

from zdlint.findings import Hit
from zdlint.sql.names import is_temporary, relation_name, strings
from zdlint.sql.parse import Statement
from zdlint.sql.schema import ColumnType, column_type
from zdlint.sql.state import MigrationState, created_names


def _columns_taking_the_name(
    node: ast.Node, name: str, state: MigrationState
) -> dict[str, ColumnType] | None:
    """The columns of the table `node` gives the name `name` (CREATE TABLE name, or
    ALTER TABLE other RENAME TO name); None when `node` does neither or they are unknown."""
    if (
        isinstance(node, ast.CreateStmt)
        and relation_name(node.relation) == name
        and not is_temporary(node.relation)  # the session's own: other sessions lose `name`
    ):
        return {
            c.colname: column_type(c.typeName)
            for c in node.tableElts or ()
            if isinstance(c, ast.ColumnDef) and c.colname
        }
    if (
        isinstance(node, ast.RenameStmt)
        and node.renameType == ObjectType.OBJECT_TABLE
        and node.newname == name
    ):
        source = state.schema.tables.get(relation_name(node.relation))
        return {c.name: c.type for c in source.columns.values()} if source else None
    return None


def _query_columns(node: ast.CreateTableAsStmt) -> set[str] | None:
    """The column names CREATE TABLE … AS gives its table: the INTO list, else the
    query's output names; None when they cannot be read (`*`, a set operation)."""
    if node.into is not None and node.into.colNames:
        return {n.sval for n in node.into.colNames if isinstance(n, ast.String) and n.sval}
    query = node.query
    if not isinstance(query, ast.SelectStmt) or query.op or not query.targetList:
        return None
    names: set[str] = set()
    for target in query.targetList:
        if not isinstance(target, ast.ResTarget):
            return None
        fields = target.val.fields if isinstance(target.val, ast.ColumnRef) else None
        last = fields[-1] if fields else None
        if target.name:
            names.add(target.name)
        elif isinstance(last, ast.String) and last.sval:
            names.add(last.sval)
        else:
            return None  # `*`, or an expression PostgreSQL names after its function
    return names


def _replaced_compatibly(name: str, node: ast.DropStmt, state: MigrationState) -> bool:
    """Later in the same transaction another table takes the name with every column the
    dropped one had (same names, same types): no query of the running version sees the
    name missing or a column gone. Unknown columns prove nothing."""
    old = state.schema.tables.get(name)
    later, _closed = state.rest_of_transaction(node)
    for other in later:
        if isinstance(other, ast.CreateTableAsStmt) and ("table", name) in created_names(other):
            # rebuilt from its query: every old column must come out of it by name (its
            # types are the query's); `SELECT *` from a view or table the model cannot
            # expand is taken as the same shape, which is what a rebuild is for
            output = _query_columns(other)
            known = [c.name for c in old.columns.values()] if old is not None else []
            return output is None or all(c in output for c in known)
        if old is None or not old.columns:
            continue
        new = _columns_taking_the_name(other, name, state)
        if new is not None:
            return all(new.get(c.name) == c.type for c in old.columns.values())
    return False


def _created_by_file(name: str, node: ast.DropStmt, state: MigrationState) -> bool:
    """The file's own table: created earlier in it, or (DROP TABLE IF EXISTS) a scratch
    name it creates as TEMP. Without IF EXISTS the DROP fails unless the table exists, so
    a name the file has not created yet is a shared table, whatever the file does later."""
    return name in state.created_tables or (bool(node.missing_ok) and state.is_new_table(name))


def check(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    node = stmt.node
    assert isinstance(node, ast.DropStmt)
    if node.removeType != ObjectType.OBJECT_TABLE:
        return
    names = [".".join(strings(obj)) for obj in node.objects or ()]
    existing = [
        n
        for n in names
        if not _created_by_file(bare := n.split(".")[-1], node, state)
        and not _replaced_compatibly(bare, node, state)
    ]
    if existing:
        yield Hit({"table": ", ".join(existing)})


CHECKS = [("ZD305", [ast.DropStmt], check)]
