"""Where each subcommand of an ALTER TABLE statement is in the text.

pglast keeps no location for ALTER TABLE subcommands. The scanner finds them: after the
table's name, the statement is its subcommands separated by commas outside brackets.
"""

from __future__ import annotations

from pglast import ast
from pglast import parser as pg_parser

from zdlint.sql.parse import Statement

_COMMENTS = ("SQL_COMMENT", "C_COMMENT")
_OPEN = ("ASCII_40", "ASCII_91")  # ( [
_CLOSE = ("ASCII_41", "ASCII_93")  # ) ]
_COMMA, _DOT, _STAR = "ASCII_44", "ASCII_46", "ASCII_42"


def command_spans(stmt: Statement) -> list[tuple[int, int]] | None:
    """(start, end) file offsets of each subcommand of an ALTER TABLE (or ALTER INDEX,
    VIEW, …) statement, in the order of `node.cmds`; None when the text does not split
    into exactly one piece per subcommand."""
    node = stmt.node
    if not isinstance(node, ast.AlterTableStmt) or node.relation is None:
        return None
    try:
        tokens = [t for t in pg_parser.scan(stmt.text) if t.name not in _COMMENTS]
    except pg_parser.ParseError:
        return None
    name_at = stmt.base + (node.relation.location or 0) - stmt.start
    i = next((k for k, t in enumerate(tokens) if t.start >= name_at), len(tokens))
    i += 1  # the name, then `.part` for each qualifier, then `*` (descendants)
    while i + 1 < len(tokens) and tokens[i].name == _DOT:
        i += 2
    if i < len(tokens) and tokens[i].name == _STAR:
        i += 1
    pieces: list[tuple[int, int]] = []
    depth, first = 0, i
    for k in range(i, len(tokens) + 1):
        token = tokens[k] if k < len(tokens) else None
        if token is not None and token.name in _OPEN:
            depth += 1
        elif token is not None and token.name in _CLOSE:
            depth -= 1
        elif token is None or (token.name == _COMMA and depth == 0):
            if k == first:
                return None
            pieces.append((stmt.start + tokens[first].start, stmt.start + tokens[k - 1].end + 1))
            first = k + 1
    return pieces if len(pieces) == len(node.cmds or ()) else None
