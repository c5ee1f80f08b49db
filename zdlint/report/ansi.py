"""ANSI styling for the human formats; every function is the identity when colour is off."""

from __future__ import annotations

from zdlint.findings import Severity

_RESET = "\x1b[0m"
BOLD = "1"
BLUE = "34"
CYAN = "36"
_SEVERITY = {Severity.ERROR: "31", Severity.WARNING: "33", Severity.INFO: "36"}


def paint(text: str, *codes: str, color: bool) -> str:
    """Wrap `text` in SGR codes when `color` is set; empty text stays empty."""
    if not color or not text or not codes:
        return text
    return f"\x1b[{';'.join(codes)}m{text}{_RESET}"


def severity_color(severity: Severity) -> str:
    return _SEVERITY[severity]
