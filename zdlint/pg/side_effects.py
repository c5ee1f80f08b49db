"""Refuse statements that reach outside the database before zdlint runs them.

zdlint runs migrations it did not write; a `COPY … PROGRAM` would run a shell command on
the server's machine, and `COPY … TO '/path'` would write a file there.
"""

from __future__ import annotations

from pglast import ast

# Functions that read or write the server's files or open connections elsewhere.
OUTSIDE_FUNCTIONS = frozenset(
    {
        "lo_import",
        "lo_export",
        "pg_read_file",
        "pg_read_binary_file",
        "pg_ls_dir",
        "pg_stat_file",
        "pg_file_write",
        "pg_file_rename",
        "pg_file_unlink",
        "dblink",
        "dblink_exec",
        "dblink_connect",
        "dblink_connect_u",
    }
)


class SideEffectError(Exception):
    """A statement would act outside the database; refused unless side effects are allowed."""


def side_effect(node: ast.Node | None) -> str | None:
    """Why running `node` would reach outside the database, or None."""
    if node is None:
        return None
    if isinstance(node, ast.CopyStmt):
        if node.is_program:
            return f"COPY … PROGRAM runs the shell command {node.filename!r} on the server"
        if node.filename is not None:
            direction = "reads" if node.is_from else "writes"
            return f"COPY … {direction} the server file {node.filename!r}"
    if isinstance(node, ast.AlterSystemStmt):
        return "ALTER SYSTEM changes the server's configuration file"
    if isinstance(node, ast.CreateTableSpaceStmt):
        return "CREATE TABLESPACE uses a directory on the server"
    if isinstance(node, ast.CreateSubscriptionStmt):
        return "CREATE SUBSCRIPTION connects to another server"
    if isinstance(node, ast.FuncCall) and node.funcname:
        name = getattr(node.funcname[-1], "sval", "")
        if name.lower() in OUTSIDE_FUNCTIONS:
            return f"{name}() reaches outside the database"
    for child in _children(node):
        reason = side_effect(child)
        if reason:
            return reason
    return None


def _children(node: ast.Node) -> list[ast.Node]:
    found: list[ast.Node] = []
    for name in node:
        _collect(getattr(node, name, None), found)
    return found


def _collect(value: object, found: list[ast.Node]) -> None:
    if isinstance(value, ast.Node):
        found.append(value)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _collect(item, found)


def refuse_side_effects(node: ast.Node | None, allow_side_effects: bool = False) -> None:
    """Raise SideEffectError when `node` reaches outside the database and that is not allowed."""
    if allow_side_effects:
        return
    reason = side_effect(node)
    if reason:
        raise SideEffectError(
            f"Refusing to run this statement: {reason}. Pass --allow-side-effects if you "
            "really mean it."
        )
