"""Parsing TOML with tomllib (tomli before Python 3.11), imported only when a file is
parsed: a run that reads no TOML (the usual one) does not pay for it."""

from __future__ import annotations

import sys
from typing import Any


def loads(text: str) -> dict[str, Any]:
    """Parse a TOML document; a malformed one raises ValueError (TOMLDecodeError)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    return tomllib.loads(text)
