"""Split a migration file into statements and parse each with pglast (libpg_query).

One bad statement becomes one statement with an `error`; every other statement is
still parsed. Offsets are character offsets into the decoded text.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from pglast import ast
from pglast import parser as pg_parser

from zdlint.findings import Span
from zdlint.source import SourceText

_tree_lock = threading.RLock()
_unchecked_depth = 0
_CHECKED_SETATTR = ast.Node.__setattr__


@contextmanager
def unchecked_tree_building() -> Iterator[None]:
    """Build pglast nodes without the per-attribute type checks of `Node.__setattr__`.

    The C parser already produces well-typed values; the checks only cost time (most
    of `parse_sql`'s). A test proves the trees are identical on the corpus.

    Re-entrant, and only the outermost use swaps the method: assigning to a class
    attribute makes CPython update every one of the ~300 node subclasses, which costs
    more than parsing a small file. Wrap a whole batch of files in it to pay that once;
    other threads wait for the batch to end before they parse.
    """
    global _unchecked_depth
    with _tree_lock:
        if _unchecked_depth == 0:
            ast.Node.__setattr__ = object.__setattr__  # type: ignore[method-assign,assignment]
        _unchecked_depth += 1
        try:
            yield
        finally:
            _unchecked_depth -= 1
            if _unchecked_depth == 0:
                ast.Node.__setattr__ = _CHECKED_SETATTR  # type: ignore[method-assign]


def parse_fast(sql: str) -> tuple[ast.RawStmt, ...]:
    """`pglast.parser.parse_sql` without per-attribute checks; same trees."""
    with unchecked_tree_building():
        return pg_parser.parse_sql(sql)


@dataclass(frozen=True)
class Statement:
    """One SQL statement of a file, with its exact place in it."""

    index: int
    base: int  # node `location`s count from here (0 unless parsed alone after an error)
    start: int  # offset of its first character (after leading comments)
    end: int  # offset just past its last character (before the `;`)
    comment_start: int  # where the comments that belong to it begin
    span: Span
    text: str
    node: ast.Node | None  # the parsed statement, None on a syntax error
    error: str | None = None
    error_offset: int | None = None

    @property
    def kind(self) -> str:
        return type(self.node).__name__ if self.node is not None else "SyntaxError"


def parse_statements(source: SourceText) -> list[Statement]:
    """All statements of `source`, in order, each parsed on its own when needed."""
    text = source.text
    try:
        raws = parse_fast(text)
    except pg_parser.ParseError:
        pieces = list(_pieces_after_error(text))
    else:
        pieces = [(raw, 0, len(text), None) for raw in raws]

    statements: list[Statement] = []
    previous_end: int | None = None
    for item, base, limit, error in pieces:
        if error is not None:
            message, start, end, error_offset = error
            node = None
        else:
            assert isinstance(item, ast.RawStmt)
            raw = item
            location, length = raw.stmt_location or 0, raw.stmt_len or 0
            start = base + location
            end = start + length if length else limit
            if not length:
                end = _end_of_last_token(text, start, end)
            node, message, error_offset = raw.stmt, None, None
        statements.append(
            Statement(
                index=len(statements),
                base=base,
                start=start,
                end=end,
                comment_start=_comment_start(text, previous_end, start),
                span=source.span(start, end),
                text=text[start:end],
                node=node,
                error=message,
                error_offset=error_offset,
            )
        )
        previous_end = end
    return statements


def _comment_start(text: str, previous_end: int | None, start: int) -> int:
    """Comments above a statement belong to it; one on the previous statement's last
    line (after its `;`) belongs to the previous statement."""
    if previous_end is None:
        return 0
    newline = text.find("\n", previous_end, start)
    return start if newline == -1 else newline + 1


def _end_of_last_token(text: str, start: int, end: int) -> int:
    """The last statement runs to the end of the file: drop trailing comments and blanks."""
    chunk = text[start:end]
    try:
        tokens = [t for t in pg_parser.scan(chunk) if t.name not in ("SQL_COMMENT", "C_COMMENT")]
    except pg_parser.ParseError:
        return start + len(chunk.rstrip())
    if not tokens:
        return start + len(chunk.rstrip())
    last = tokens[-1]
    if last.name == "ASCII_59" and len(tokens) > 1:
        last = tokens[-2]
    return start + last.end + 1


_Piece = tuple["ast.RawStmt | None", int, int, "tuple[str, int, int, int] | None"]


def _pieces_after_error(text: str) -> Iterator[_Piece]:
    """Split on top-level semicolons with the scanner, then parse chunk by chunk."""
    for chunk_start, chunk_end, scan_error in _chunks(text):
        chunk = text[chunk_start:chunk_end]
        if scan_error is not None:
            yield from _syntax_error(text, chunk_start, chunk_end, *scan_error)
            continue
        try:
            raws = parse_fast(chunk)
        except pg_parser.ParseError as exc:
            message, location = exc.args[0], _error_location(exc, len(chunk))
            yield from _syntax_error(text, chunk_start, chunk_end, message, chunk_start + location)
            continue
        for raw in raws:
            yield raw, chunk_start, chunk_end, None


def _error_location(exc: pg_parser.ParseError, at_end: int) -> int:
    """The character offset libpg_query reports; none means "at end of input"."""
    location = exc.args[1] if len(exc.args) > 1 else None
    return location if isinstance(location, int) else at_end


def _syntax_error(
    text: str, chunk_start: int, chunk_end: int, message: str, offset: int
) -> Iterator[_Piece]:
    chunk = text[chunk_start:chunk_end]
    stripped = _skip_blank_and_comments(chunk)
    start = chunk_start + stripped
    end = chunk_start + len(chunk.rstrip())
    if end <= start:  # nothing but comments: not a statement
        return
    yield None, 0, end, (message, start, end, max(start, min(offset, end)))


def _skip_blank_and_comments(chunk: str) -> int:
    """Offset of the first character that is neither white space nor inside a comment."""
    i, n = 0, len(chunk)
    while i < n:
        if chunk[i].isspace():
            i += 1
        elif chunk.startswith("--", i):
            newline = chunk.find("\n", i)
            i = n if newline == -1 else newline + 1
        elif chunk.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if chunk.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif chunk.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        else:
            break
    return min(i, n)


def _chunks(text: str) -> Iterator[tuple[int, int, tuple[str, int] | None]]:
    """(start, end, scan error) of each `;`-separated chunk; `BEGIN ATOMIC … END` bodies
    keep their inner semicolons. An unterminated quote ends the splitting there."""
    try:
        tokens = pg_parser.scan(text)
        scan_error = None
    except pg_parser.ParseError as exc:
        location = _error_location(exc, len(text))
        scan_error = (exc.args[0], location)
        # Split what comes before the bad token; the rest is one syntax error.
        head_end = text.rfind(";", 0, location) + 1
        if head_end > 0:
            yield from _chunks(text[:head_end])
        yield head_end, len(text), scan_error
        return
    start = 0
    atomic_depth = 0
    previous = None
    for token in tokens:
        name = token.name
        if name == "ATOMIC" and previous == "BEGIN_P":
            atomic_depth += 1
        elif name == "END_P" and atomic_depth:
            atomic_depth -= 1
        elif name == "ASCII_59" and not atomic_depth:
            yield start, token.start, None
            start = token.end + 1
        if name not in ("SQL_COMMENT", "C_COMMENT"):
            previous = name
    if text[start:].strip():
        yield start, len(text), scan_error
