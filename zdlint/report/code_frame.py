"""The code frame under a finding in the `full` format: numbered lines and a caret line.

Columns in a Span count characters; a terminal counts cells. Tabs expand to the next tab
stop, East Asian wide characters take two cells, combining marks none, so the carets land
under the right characters. Control characters are shown as their Unicode pictures so a
file cannot send escape sequences to the terminal.
"""

from __future__ import annotations

import unicodedata

from zdlint.findings import Span
from zdlint.report.ansi import BLUE, BOLD, paint
from zdlint.source import SourceText

TAB_WIDTH = 4
MAX_LINES = 6  # a longer span shows its first HEAD and last TAIL lines
HEAD = 3
TAIL = 2


def code_frame(
    source: SourceText, span: Span, *, caret_color: str, color: bool
) -> tuple[list[str], int]:
    """The frame's lines (no trailing newlines) and the width of its line numbers; no
    lines and width 0 when the span is not in the text."""
    numbers = _shown_lines(source, span)
    if not numbers:
        return [], 0
    # An elided frame has a `...` gutter row; keep the numbers aligned with it.
    width = max(len(str(numbers[-1])), 3 if len(numbers) > MAX_LINES else 1)
    if len(numbers) > MAX_LINES:
        numbers = numbers[:HEAD] + [0] + numbers[-TAIL:]  # 0 marks the elided middle
    bar = paint(" " * width + " |", BLUE, BOLD, color=color)

    lines = [bar]
    for number in numbers:
        if number == 0:
            lines.append(paint(f"{'...':>{width}} |", BLUE, BOLD, color=color))
            continue
        cells, offsets = display(source.line_text(number))
        gutter = paint(f"{number:>{width}} |", BLUE, BOLD, color=color)
        lines.append(f"{gutter} {cells}".rstrip())
        if number == span.line:
            lines.append(f"{bar} {_carets(span, offsets, caret_color, color)}")
    lines.append(bar)
    return lines, width


def _shown_lines(source: SourceText, span: Span) -> list[int]:
    line_count = source.line_count
    if span.line < 1 or span.line > line_count:
        return []
    last = min(max(span.end_line, span.line), line_count)
    # A span that ends at column 1 covers nothing of its last line: do not show it.
    if last > span.line and span.end_line == last and span.end_column <= 1:
        last -= 1
    return list(range(span.line, last + 1))


def _carets(span: Span, offsets: list[int], caret_color: str, color: bool) -> str:
    length = len(offsets) - 1  # characters on the line
    start = min(max(span.column, 1), length + 1) - 1
    end = length if span.end_line > span.line else min(max(span.end_column - 1, start), length)
    left = offsets[start]
    cells = max(offsets[end] - left, 1) if end > start else 1
    return " " * left + paint("^" * cells, caret_color, BOLD, color=color)


def display(line: str) -> tuple[str, list[int]]:
    """The line as shown, and the display cell where each character (and the end) starts."""
    if line.isascii() and line.isprintable():  # the common case: one cell per character
        return line, list(range(len(line) + 1))
    shown: list[str] = []
    offsets: list[int] = []
    cell = 0
    for char in line:
        offsets.append(cell)
        if char == "\t":
            step = TAB_WIDTH - cell % TAB_WIDTH
            shown.append(" " * step)
            cell += step
            continue
        char = _visible(char)
        shown.append(char)
        cell += char_width(char)
    offsets.append(cell)
    return "".join(shown), offsets


def char_width(char: str) -> int:
    """Terminal cells taken by one character."""
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _visible(char: str) -> str:
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ … ␟
    if code == 0x7F:
        return "\u2421"  # ␡
    if 0x80 <= code < 0xA0:
        return "\ufffd"
    return char


def visible_text(text: str) -> str:
    """`text` with control characters (tabs excepted) replaced by visible stand-ins."""
    if text.isprintable():  # no control characters at all (a tab is not printable)
        return text
    return "".join(c if c == "\t" else _visible(c) for c in text)
