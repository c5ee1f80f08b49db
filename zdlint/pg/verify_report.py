"""Reports of `zdlint verify`: a table (full), JSON, and an HTML page with a latency chart."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from jinja2 import Environment, PackageLoader

from zdlint.pg.verify import RunMeasurement, VerifyResult

FORMATS = ("full", "json", "html")
COLORS = {"control": "#7f8c8d", "migration": "#d9534f", "fixed": "#2e8b57"}
TITLES = {"control": "control", "migration": "original", "fixed": "fixed"}


@dataclass(frozen=True)
class Verdict:
    max_stall_ms: float | None  # the gate; None when none was asked for
    run: str  # the run the gate judges
    stall_ms: float
    error: str | None  # that run's failed statement

    @property
    def passed(self) -> bool:
        if self.error is not None:
            return False
        return self.max_stall_ms is None or self.stall_ms <= self.max_stall_ms


def verdict(result: VerifyResult, max_stall_ms: float | None) -> Verdict:
    run = result.gated
    return Verdict(max_stall_ms, run.name, run.max_write_stall_ms, run.error)


def render(result: VerifyResult, output_format: str, source: str, gate: Verdict) -> str:
    if output_format == "json":
        return json.dumps(as_json(result, source, gate), indent=2)
    if output_format == "html":
        return render_html(result, source, gate)
    return render_full(result, source, gate)


# --- JSON -------------------------------------------------------------------------------


def run_summary(run: RunMeasurement) -> dict[str, object]:
    return {
        "max_write_stall_ms": _ms(run.max_write_stall_ms),
        "p50_write_ms": _ms(run.p50_write_ms),
        "p99_write_ms": _ms(run.p99_write_ms),
        "late_writes": run.late_writes,
        "failed_writes": run.failed_writes,
        "writes": len(run.writes),
        "lock_waits": run.lock_waits.as_dict(),
        "duration_ms": _ms(run.duration_ms),
        "max_read_ms": _ms(run.max_read_ms),
        "failed_reads": run.failed_reads,
        "reads": len(run.reads),
        "reader_lock_waits": run.reader_lock_waits.as_dict(),
        "migration_lock_waits": run.migration_lock_waits.as_dict(),
        "window_ms": _ms(run.window_s * 1000),
        "error": run.error,
        "errors": run.errors(),
        "statements": [
            {
                "label": s.label,
                "source": s.source,
                "start_ms": _ms(s.start_s * 1000),
                "end_ms": _ms(s.end_s * 1000),
                "duration_ms": _ms(s.duration_ms),
                "error": s.error,
            }
            for s in run.statements
        ],
    }


def as_json(result: VerifyResult, source: str, gate: Verdict) -> dict[str, object]:
    settings = result.settings
    document: dict[str, object] = {
        "migration_file": source,
        "server_version": result.server_version,
        "tables": list(result.tables),
        "settings": {
            "rows": settings.rows,
            "writers": settings.load.writers,
            "readers": settings.load.readers,
            "rate": settings.load.rate,
            "write_timeout_ms": settings.load.statement_timeout_ms,
            "duration_s": settings.duration_s,
            "late_ms": settings.late_ms,
        },
        "control": run_summary(result.control),
        "migration": run_summary(result.migration),
    }
    if result.fixed is not None:
        document["fixed"] = run_summary(result.fixed)
    document["max_stall_ms"] = gate.max_stall_ms
    document["gated_run"] = gate.run
    document["passed"] = gate.passed
    document["notes"] = list(result.notes)
    return document


def _ms(value: float) -> float:
    return round(value, 2)


# --- full -------------------------------------------------------------------------------


def render_full(result: VerifyResult, source: str, gate: Verdict) -> str:
    settings = result.settings
    runs = result.runs
    lines = [
        f"zdlint verify: {source} on {settings.rows:,} rows of {', '.join(result.tables)}"
        f" (PostgreSQL {_version(result.server_version)})",
        f"traffic: {_traffic(result)} at {settings.load.rate:g} ops/s each, write timeout "
        f"{settings.load.statement_timeout_ms} ms, {result.control.window_s:.1f} s per run",
        "",
    ]
    rows: list[tuple[str, list[str]]] = [
        ("", [TITLES[r.name] for r in runs]),
        ("worst write stall", [_fmt_ms(r.max_write_stall_ms) for r in runs]),
        ("p50 write", [_fmt_ms(r.p50_write_ms) for r in runs]),
        ("p99 write", [_fmt_ms(r.p99_write_ms) for r in runs]),
        (f"late writes (>{settings.late_ms:g} ms)", [str(r.late_writes) for r in runs]),
        ("failed writes", [str(r.failed_writes) for r in runs]),
        ("writes", [str(len(r.writes)) for r in runs]),
        ("writers waiting on a lock", [_lock_text(r) for r in runs]),
        ("longest lock wait", [_fmt_ms(r.lock_waits.longest_ms) for r in runs]),
        ("worst read", [_fmt_ms(r.max_read_ms) for r in runs]),
        (
            "migration duration",
            ["-" if r.name == "control" else _fmt_ms(r.duration_ms) for r in runs],
        ),
    ]
    head = max(len(label) for label, _ in rows)
    widths = [max(len(cells[i]) for _, cells in rows) for i in range(len(runs))]
    for label, cells in rows:
        padded = "  ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True))
        lines.append(f"  {label.ljust(head)}  {padded}".rstrip())
    for run in runs:
        if run.statements:
            lines += ["", f"{TITLES[run.name]} statements (seconds since traffic started):"]
            for s in run.statements:
                failed = f"  FAILED: {s.error}" if s.error else ""
                lines.append(
                    f"  {s.start_s:7.3f} s  {_fmt_ms(s.duration_ms):>10}  {s.label}{failed}"
                )
    for run in runs:
        for error, count in run.errors().items():
            lines.append(f"{TITLES[run.name]}: {count} × {error}")
    lines += [f"note: {note}" for note in result.notes]
    lines += ["", _verdict_text(gate)]
    return "\n".join(lines)


def _traffic(result: VerifyResult) -> str:
    writers, readers = result.settings.load.writers, result.settings.load.readers
    return f"{_plural(writers, 'writer')} and {_plural(readers, 'reader')}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _lock_text(run: RunMeasurement) -> str:
    waits = run.lock_waits
    return f"{waits.backends} ({waits.samples} samples)" if waits.samples else "0"


def _fmt_ms(value: float) -> str:
    if value >= 1000:
        return f"{value:,.0f} ms"
    return f"{value:.1f} ms"


def _version(number: int) -> str:
    major, minor = divmod(number, 10000)
    return f"{major}.{minor}"


def _verdict_text(gate: Verdict) -> str:
    run = TITLES[gate.run]
    if gate.error is not None:
        return f"FAIL: the {run} migration failed: {gate.error}"
    if gate.max_stall_ms is None:
        return f"worst write stall of the {run} run: {_fmt_ms(gate.stall_ms)} (no --max-stall set)"
    word = "PASS" if gate.passed else "FAIL"
    relation = "≤" if gate.passed else ">"
    return (
        f"{word}: worst write stall of the {run} run {_fmt_ms(gate.stall_ms)} {relation} "
        f"--max-stall {gate.max_stall_ms:g} ms"
    )


# --- HTML -------------------------------------------------------------------------------

WIDTH, HEIGHT = 1100, 420
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 50, 40  # plot margins; TOP holds the statement labels
BUCKETS = 200
LOG_FLOOR_MS = 0.1
TAG_CHAR_PX = 7
WAIT_STRIP_PX = 6


@dataclass(frozen=True)
class Series:
    name: str
    title: str
    color: str
    points: str  # SVG polyline points: the worst write latency of each time bucket
    failures: tuple[float, ...]  # x of failed writes


@dataclass(frozen=True)
class Band:
    x: float
    width: float
    color: str
    tag: str  # "M1", "F2": short label drawn above the plot
    tag_x: float  # moved right when it would overlap the previous tag of its lane
    lane: int
    title: str


@dataclass(frozen=True)
class Wait:
    """A stretch when the monitor saw writers waiting for a lock: a strip at the bottom."""

    x: float
    width: float
    y: float
    color: str
    title: str


@dataclass(frozen=True)
class Tick:
    position: float
    text: str


@dataclass(frozen=True)
class Chart:
    scale: str  # "log" or "linear"
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    series: tuple[Series, ...]
    bands: tuple[Band, ...]
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    waits: tuple[Wait, ...]


def chart(result: VerifyResult, scale: str) -> Chart:
    """Write latency over time for each run, with the statements as vertical bands."""
    runs = result.runs
    window = max(r.window_s for r in runs) or 1.0
    top_ms = max((op.latency_ms for r in runs for op in r.writes), default=1.0)
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM

    def x_of(seconds: float) -> float:
        return LEFT + plot_w * min(max(seconds / window, 0.0), 1.0)

    y_of, y_ticks = _y_axis(scale, top_ms, plot_h)
    series = tuple(
        Series(
            r.name,
            TITLES[r.name],
            COLORS[r.name],
            " ".join(f"{x_of(t):.1f},{y_of(v):.1f}" for t, v in _worst_per_bucket(r, window)),
            tuple(round(x_of(op.at_s), 1) for op in r.writes if not op.ok),
        )
        for r in runs
    )
    bands = []
    for lane, run in enumerate(r for r in runs if r.statements):
        prefix = "M" if run.name == "migration" else "F"
        free_x = 0.0  # where the next tag of this lane may start
        for i, s in enumerate(run.statements, start=1):
            x = x_of(s.start_s)
            tag = f"{prefix}{i}"
            tag_x = max(x, free_x)
            free_x = tag_x + TAG_CHAR_PX * (len(tag) + 1)
            bands.append(
                Band(
                    round(x, 1),
                    round(max(x_of(s.end_s) - x, 2.0), 1),
                    COLORS[run.name],
                    tag,
                    round(tag_x, 1),
                    lane,
                    f"{tag} {s.label} ({_fmt_ms(s.duration_ms)})",
                )
            )
    waits = tuple(
        Wait(
            round(x_of(a), 1),
            round(max(x_of(b) - x_of(a), 1.5), 1),
            HEIGHT - BOTTOM - WAIT_STRIP_PX * (lane + 1),
            COLORS[r.name],
            f"{TITLES[r.name]}: writers waited for a lock {a:.3f}–{b:.3f} s",
        )
        for lane, r in enumerate(runs)
        for a, b in r.lock_waits.spans
    )
    x_ticks = tuple(Tick(round(x_of(t), 1), f"{t:g} s") for t in _nice_steps(window))
    return Chart(
        scale,
        WIDTH,
        HEIGHT,
        LEFT,
        WIDTH - RIGHT,
        TOP,
        HEIGHT - BOTTOM,
        series,
        tuple(bands),
        x_ticks,
        y_ticks,
        waits,
    )


def _worst_per_bucket(run: RunMeasurement, window: float) -> list[tuple[float, float]]:
    worst: dict[int, float] = {}
    for op in run.writes:
        bucket = min(int(op.at_s / window * BUCKETS), BUCKETS - 1)
        worst[bucket] = max(worst.get(bucket, 0.0), op.latency_ms)
    return [((b + 0.5) * window / BUCKETS, worst[b]) for b in sorted(worst)]


def _y_axis(
    scale: str, top_ms: float, plot_h: float
) -> tuple[Callable[[float], float], tuple[Tick, ...]]:
    bottom_px = TOP + plot_h
    if scale == "log":
        low = math.floor(math.log10(LOG_FLOOR_MS))
        high = max(math.ceil(math.log10(max(top_ms, 1.0)) - 1e-9), low + 1)

        def y_log(value: float) -> float:
            v = math.log10(max(value, LOG_FLOOR_MS))
            return bottom_px - plot_h * (v - low) / (high - low)

        ticks = tuple(
            Tick(round(y_log(10.0**e), 1), _tick_ms(10.0**e)) for e in range(low, high + 1)
        )
        return y_log, ticks
    steps = _nice_steps(top_ms)
    high_ms: float = steps[-1] if steps[-1] >= top_ms else top_ms

    def y_linear(value: float) -> float:
        return bottom_px - plot_h * min(value / high_ms, 1.0)

    return y_linear, tuple(Tick(round(y_linear(v), 1), _tick_ms(v)) for v in steps)


def _nice_steps(top: float, count: int = 6) -> list[float]:
    """0, step, 2·step, … up to at least `top`, with step 1, 2 or 5 × 10^n."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return [round(i * step, 10) for i in range(int(math.ceil(top / step)) + 1)]


def _tick_ms(value: float) -> str:
    if value >= 1000:
        return f"{value / 1000:g} s"
    return f"{value:g} ms"


def render_html(result: VerifyResult, source: str, gate: Verdict) -> str:
    environment = Environment(
        loader=PackageLoader("zdlint.pg", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    template = environment.get_template("verify.html.j2")
    return template.render(
        source=source,
        result=result,
        runs=result.runs,
        titles=TITLES,
        colors=COLORS,
        charts=[chart(result, "log"), chart(result, "linear")],
        verdict=gate,
        verdict_text=_verdict_text(gate),
        traffic=_traffic(result),
        version=_version(result.server_version),
        fmt_ms=_fmt_ms,
        statement_rows=_statement_rows(result.runs),
    )


def _statement_rows(runs: Sequence[RunMeasurement]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for run in runs:
        prefix = "M" if run.name == "migration" else "F"
        for i, s in enumerate(run.statements, start=1):
            rows.append(
                {
                    "tag": f"{prefix}{i}",
                    "run": TITLES[run.name],
                    "color": COLORS[run.name],
                    "start": f"{s.start_s:.3f} s",
                    "duration": _fmt_ms(s.duration_ms),
                    "sql": s.sql,
                    "source": s.source,
                    "error": s.error,
                }
            )
    return rows
