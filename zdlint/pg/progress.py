"""A one-line progress display on stderr, for long runs on a terminal only.

Nothing is written when the stream is not a TTY (CI logs, pipes). A ticker redraws the
line a few times a second, so a single long statement (seeding a million rows) still
shows time passing; when the phase has an expected length, a bar fills towards it.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

BAR_WIDTH = 24
REDRAW_INTERVAL = 0.2


class ProgressLine:
    """`with ProgressLine() as progress: progress("seeding t", None)`."""

    def __init__(self, stream: TextIO | None = None, enabled: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self._phase = ""
        self._expected: float | None = None
        self._since = time.monotonic()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._width = 0

    def __call__(self, phase: str, expected_s: float | None) -> None:
        with self._lock:
            self._phase, self._expected, self._since = phase, expected_s, time.monotonic()
        self._draw()

    def __enter__(self) -> ProgressLine:
        if self.enabled:
            self._ticker = threading.Thread(target=self._tick, name="zdlint-progress", daemon=True)
            self._ticker.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()

    def _tick(self) -> None:
        while not self._stop.wait(REDRAW_INTERVAL):
            self._draw()

    def _draw(self) -> None:
        if not self.enabled or self._stop.is_set() or not self._phase:
            return
        with self._lock:
            line = render_line(self._phase, self._expected, time.monotonic() - self._since)
            padding = max(0, self._width - len(line))
            self._width = len(line)
            self.stream.write("\r" + line + " " * padding)
            self.stream.flush()


def render_line(phase: str, expected_s: float | None, elapsed_s: float) -> str:
    """`[#####-----] phase 1.2/5.0 s`, or `phase 1.2 s` when the length is unknown."""
    if expected_s is None or expected_s <= 0:
        return f"zdlint verify: {phase} {elapsed_s:.1f} s"
    done = min(1.0, elapsed_s / expected_s)
    filled = round(done * BAR_WIDTH)
    bar = "#" * filled + "-" * (BAR_WIDTH - filled)
    return f"zdlint verify: [{bar}] {phase} {elapsed_s:.1f}/{expected_s:.1f} s"
