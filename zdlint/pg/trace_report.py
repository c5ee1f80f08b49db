"""Render traces: `full` (a table per statement), `json`, `markdown` (for PR comments)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from zdlint.locks import blocks_traffic
from zdlint.pg.trace import StatementTrace, Trace


@dataclass(frozen=True)
class TracedFile:
    """One target file and what tracing it produced."""

    path: str
    setup: tuple[str, ...]  # set-up files applied before it, in order
    trace: Trace


def first_line(sql: str, width: int = 80) -> str:
    line = sql.strip().splitlines()[0] if sql.strip() else ""
    more = len(sql.strip().splitlines()) > 1
    if len(line) > width:
        return line[: width - 1] + "…"
    return line + (" …" if more else "")


def timeout_text(ms: int | None) -> str:
    if ms is None:
        return "unknown"
    return "none" if ms == 0 else f"{ms} ms"


def render(files: Sequence[TracedFile], output_format: str) -> str:
    if output_format == "json":
        return render_json(files)
    if output_format == "markdown":
        return render_markdown(files)
    return render_full(files)


def render_full(files: Sequence[TracedFile]) -> str:
    out: list[str] = []
    for traced in files:
        trace = traced.trace
        version = f"{trace.server_version // 10000}.{trace.server_version % 10000}"
        out.append(f"{traced.path} (PostgreSQL {version}, {_seeding_text(trace)})")
        for note in trace.notes:
            out.append(f"  note: {note}")
        for statement in trace.statements:
            out.append("")
            out.extend(_full_statement(traced.path, statement))
        out.append("")
    return "\n".join(out)


def _full_statement(path: str, s: StatementTrace) -> list[str]:
    lines = [f"{path}:{s.line}:{s.column}  {first_line(s.sql)}"]
    if s.error is not None:
        lines.append(f"  error: {s.error}")
        return lines
    if s.locks:
        rows = [("relation", "lock", "blocks")] + [
            (lk.relation, lk.lock.sql_name, lk.lock.blocks) for lk in s.locks
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(2)]
        for relation, mode, blocks in rows:
            lines.append(f"  {relation:<{widths[0]}}  {mode:<{widths[1]}}  {blocks}")
    else:
        lines.append("  no new locks")
    how = (
        "sampled, outside a transaction"
        if s.sampled
        else ("in a transaction" if s.in_transaction else "outside a transaction")
    )
    lines.append(
        f"  rewrite: {_yes(s.rewrites)}  scan: {_yes(s.scans)}  "
        f"duration: {s.duration_ms:.1f} ms  lock_timeout: {timeout_text(s.lock_timeout_ms)}  "
        f"({how})"
    )
    lines.extend(f"  note: {note}" for note in s.notes)
    return lines


def _yes(relations: Sequence[str]) -> str:
    return f"yes ({', '.join(relations)})" if relations else "no"


def _seeding_text(trace: Trace) -> str:
    seeding = trace.seeding
    text = f"{seeding.rows} rows seeded per table"
    if seeding.skipped:
        text += "; not seeded: " + "; ".join(f"{t} ({why})" for t, why in seeding.skipped)
    return text


def statement_json(path: str, s: StatementTrace) -> dict[str, object]:
    return {
        "file": path,
        "line": s.line,
        "column": s.column,
        "sql": s.sql,
        "locks": [
            {"relation": lk.relation, "mode": lk.mode, "blocks": lk.lock.blocks} for lk in s.locks
        ],
        "rewrites": list(s.rewrites),
        "scans": list(s.scans),
        "duration_ms": s.duration_ms,
        "lock_timeout_ms": s.lock_timeout_ms,
        "in_transaction": s.in_transaction,
        "sampled": s.sampled,
        "error": s.error,
        "notes": list(s.notes),
    }


def render_json(files: Sequence[TracedFile]) -> str:
    document = {
        "files": [
            {
                "file": f.path,
                "setup": list(f.setup),
                "server_version": f.trace.server_version,
                "seeded": list(f.trace.seeding.seeded),
                "not_seeded": [{"table": t, "reason": r} for t, r in f.trace.seeding.skipped],
                "notes": list(f.trace.notes),
            }
            for f in files
        ],
        "statements": [statement_json(f.path, s) for f in files for s in f.trace.statements],
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(files: Sequence[TracedFile]) -> str:
    out: list[str] = []
    for traced in files:
        out.append(f"#### `{traced.path}`")
        out.append("")
        out.append(
            "| Line | Statement | Relation | Lock | Blocks | Rewrite | Scan | Time | lock_timeout |"
        )
        out.append("|---:|---|---|---|---|---|---|---:|---|")
        for s in traced.trace.statements:
            statement = f"`{_cell(first_line(s.sql, 60))}`"
            common = (
                f"{_yes(s.rewrites)} | {_yes(s.scans)} | {s.duration_ms:.1f} ms | "
                f"{timeout_text(s.lock_timeout_ms)}"
            )
            if s.error is not None:
                out.append(f"| {s.line} | {statement} | **error** | {_cell(s.error)} | | | | | |")
                continue
            if not s.locks:
                out.append(f"| {s.line} | {statement} | | | | {common} |")
            for i, lk in enumerate(s.locks):
                head = f"| {s.line} | {statement}" if i == 0 else "| |"
                mode = lk.lock.sql_name
                if blocks_traffic(lk.mode):
                    mode = f"**{mode}**"
                out.append(
                    f"{head} | `{_cell(lk.relation)}` | {mode} | {lk.lock.blocks} | {common} |"
                )
        out.append("")
        out.append(f"<sub>{_cell(_seeding_text(traced.trace))}</sub>")
        out.append("")
    return "\n".join(out)
