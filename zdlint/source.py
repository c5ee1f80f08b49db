"""Reading a file's bytes into text, and turning character offsets into positions."""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from zdlint.findings import Span

BOM = "\ufeff"


class UndecodableFile(Exception):
    """The bytes are not UTF-8 text (binary, or another encoding)."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


def decode(data: bytes) -> str:
    """Decode UTF-8 (with or without a BOM); refuse binary data and other encodings."""
    nul = data.find(b"\x00")
    if nul != -1:
        raise UndecodableFile("the file holds NUL bytes: it looks binary, not text", nul)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UndecodableFile(
            f"the file is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start});"
            " re-save it as UTF-8",
            exc.start,
        ) from None
    return text[1:] if text.startswith(BOM) else text


@dataclass
class SourceText:
    """A file's text with a line index, for 1-based line/column positions."""

    text: str

    def __post_init__(self) -> None:
        starts = [0]
        find = self.text.find
        pos = find("\n")
        while pos != -1:
            starts.append(pos + 1)
            pos = find("\n", pos + 1)
        self.line_starts = starts

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset; column counts characters."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self.line_starts, offset) - 1
        return line + 1, offset - self.line_starts[line] + 1

    def span(self, start: int, end: int) -> Span:
        line, column = self.position(start)
        end_line, end_column = self.position(max(end, start))
        return Span(line, column, end_line, end_column)

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its line ending."""
        if line < 1 or line > len(self.line_starts):
            return ""
        start = self.line_starts[line - 1]
        end = self.line_starts[line] if line < len(self.line_starts) else len(self.text)
        return self.text[start:end].rstrip("\r\n")

    @property
    def line_count(self) -> int:
        return len(self.line_starts)
