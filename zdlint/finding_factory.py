"""Turn a check's Hit into a Finding: format its rule's message and help."""

from __future__ import annotations

from collections.abc import Callable

from zdlint.catalogue import Rule
from zdlint.findings import Finding, Hit
from zdlint.locks import lock_mode
from zdlint.source import SourceText


class _Fact(str):
    """A fact of a finding. `{table}` shows it as written; `{table:sql}` as SQL, each
    dotted part of the name quoted where PostgreSQL would not read it back unchanged."""

    __slots__ = ()

    def __format__(self, spec: str) -> str:
        if spec == "sql":
            from zdlint.sql.identifiers import quote_qualified

            return quote_qualified(self)
        return str.__format__(self, spec)


def make_finding(
    rule: Rule,
    path: str,
    source: SourceText,
    stmt_start: int,
    stmt_end: int,
    hit: Hit,
    restore: Callable[[str], str] | None = None,
) -> Finding:
    """Format a rule's message with a hit's facts and the lock it takes; `restore` spells
    the names a template placeholder stood in for as the file does."""
    lock = hit.lock or rule.claim.lock
    fields: dict[str, object] = {
        key: _Fact(value) if isinstance(value, str) else value for key, value in hit.fields.items()
    }
    if lock:
        mode = lock_mode(lock)
        fields.setdefault("lock", mode.sql_name)
        fields.setdefault("blocks", mode.blocks)
    start = stmt_start if hit.start is None else hit.start
    end = stmt_end if hit.end is None else hit.end
    message = rule.message.format(**fields)
    help_text = rule.help.format(**fields)
    if restore is not None:
        message, help_text = restore(message), restore(help_text)
    return Finding(
        code=rule.code,
        rule=rule.name,
        severity=rule.severity,
        path=path,
        span=source.span(start, end),
        message=message,
        help=help_text,
        lock=lock,
        fixable=rule.fixable,
    )
