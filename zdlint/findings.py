"""The shared currency of zdlint: positions, severities and findings."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Severity(enum.IntEnum):
    """How bad a finding is; ordered so that `--fail-on` can compare."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @classmethod
    def parse(cls, value: str) -> Severity:
        try:
            return cls[value.strip().upper()]
        except KeyError:
            names = ", ".join(s.name.lower() for s in cls)
            raise ValueError(f"unknown severity {value!r} (expected one of: {names})") from None

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Span:
    """A region of a file: 1-based lines and columns (characters), end column exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True)
class Finding:
    """One problem found in one file."""

    code: str
    rule: str
    severity: Severity
    path: str
    span: Span
    message: str
    help: str = ""
    lock: str | None = None
    fixable: bool = False
    # Opaque plan for `zdlint fix`; the reporters only look at `fixable`.
    fix: object | None = field(default=None, compare=False)
    # (line, column, rank): where the statement it belongs to starts, and its place among
    # that statement's findings, most specific first; None: ordered by its own position.
    place: tuple[int, int, int] | None = None

    @property
    def sort_key(self) -> tuple[str, int, int, int, int, int, str]:
        """Findings of one statement stay together, in their rank order."""
        span = self.span
        line, column, rank = self.place or (span.line, span.column, 0)
        return (self.path, line, column, rank, span.line, span.column, self.code)


@dataclass(frozen=True)
class FileReport:
    """Everything the reporters need about one checked file."""

    path: str  # as given by the user (or "-" for stdin), with forward slashes
    findings: tuple[Finding, ...]
    # The decoded text, for code frames; None when the file could not be decoded.
    text: str | None = None
    # What the reporter in use made of this file ahead of rendering (see `prepare`)
    prepared: object = field(default=None, compare=False)


@dataclass(frozen=True)
class Hit:
    """What a check returns: the facts for its rule's message, and where.

    `start`/`end` are character offsets into the file; None means the whole statement
    (or object), or the `part` of it the hit is about (an ALTER TABLE subcommand) when the
    engine can place it. `lock` overrides the lock mode the rule's catalogue entry claims.
    `tables` names the tables the hit is about when they are not the statement's own (a
    lock held since an earlier statement): another finding on the statement says such a
    hit in full only when it covers them.
    """

    fields: dict[str, object] = field(default_factory=dict)
    start: int | None = None
    end: int | None = None
    lock: str | None = None
    part: object | None = None
    tables: tuple[str, ...] = ()
