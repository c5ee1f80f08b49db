"""Reading and editing the user's SQL text: quoting, clause slices, token splices.

Fixes keep the user's own text where they can (comments, spelling, layout) and only
splice in what changes, so the diff shows exactly the rewrite.
"""

from __future__ import annotations

from pglast import parser as pg_parser

from zdlint.sql.identifiers import quote_ident  # noqa: F401 - re-exported


class Token:
    __slots__ = ("name", "start", "end", "depth")

    def __init__(self, name: str, start: int, end: int, depth: int) -> None:
        self.name, self.start, self.end, self.depth = name, start, end, depth


def tokens(text: str) -> list[Token]:
    """Significant tokens of `text` with character offsets and parenthesis depth."""
    out: list[Token] = []
    depth = 0
    for token in pg_parser.scan(text):  # character offsets, end inclusive
        if token.name in ("SQL_COMMENT", "C_COMMENT"):
            continue
        start, end = token.start, token.end + 1
        if token.name == "ASCII_41":
            depth -= 1
        out.append(Token(token.name, start, end, depth))
        if token.name == "ASCII_40":
            depth += 1
    return out


def find_keyword(text: str, name: str, after: int = 0) -> Token | None:
    """The first top-level token called `name` (e.g. "INDEX", "WHERE") at or after `after`."""
    for token in tokens(text):
        if token.start >= after and token.depth == 0 and token.name == name:
            return token
    return None


def insert_after(text: str, keyword: str, insertion: str) -> str | None:
    """`text` with `insertion` placed after the first top-level `keyword`."""
    token = find_keyword(text, keyword)
    if token is None:
        return None
    return text[: token.end] + " " + insertion + text[token.end :]


def remove_tokens(text: str, names: tuple[str, ...]) -> str:
    """`text` without the first top-level run of tokens `names` (e.g. IF NOT EXISTS)."""
    toks = tokens(text)
    for i in range(len(toks) - len(names) + 1):
        run = toks[i : i + len(names)]
        if all(t.name == n and t.depth == 0 for t, n in zip(run, names, strict=True)):
            start, end = run[0].start, run[-1].end
            while end < len(text) and text[end] == " ":
                end += 1
            return text[:start] + text[end:]
    return text


def clause(text: str, start_keyword: str, stop_keywords: tuple[str, ...]) -> str | None:
    """The source text of a top-level clause: after `start_keyword`, up to the first
    top-level stop keyword (or the end)."""
    toks = tokens(text)
    begin = next((t.end for t in toks if t.depth == 0 and t.name == start_keyword), None)
    if begin is None:
        return None
    end = next(
        (t.start for t in toks if t.depth == 0 and t.start >= begin and t.name in stop_keywords),
        len(text),
    )
    return text[begin:end].strip()


def node_text(text: str, location: int | None, next_location: int | None = None) -> str | None:
    """Source text of a node that starts at `location` (a character offset into `text`)
    and ends before `next_location` or at the end."""
    if location is None or location < 0:
        return None
    end = len(text) if next_location is None else next_location
    return text[location:end].strip().rstrip(",").strip()
