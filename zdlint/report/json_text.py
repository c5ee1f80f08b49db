"""`json.dumps(value, indent=2)`'s exact text, made by the C encoder.

The standard library uses its C encoder only without `indent`; with it, every value goes
through the pure-Python encoder, which made JSON and SARIF output a fifth of a run. Here
each object or array whose members are all scalars (a finding, a region, a summary) is
encoded by one C call whose item separator carries the newline and the indentation, and
only the containers that hold containers are laid out in Python.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from json.encoder import (  # type: ignore[attr-defined]
    c_make_encoder,
    encode_basestring,
    encode_basestring_ascii,
)
from typing import Any

INDENT = 2
_SCALARS = (str, int, float, bool, type(None))


def dumps(value: Any, *, ensure_ascii: bool) -> str:
    """The same text as `json.dumps(value, indent=2, ensure_ascii=ensure_ascii)` for
    values made of dicts with string keys, lists, tuples and JSON scalars."""
    out: list[str] = []
    write(value, 0, out, ensure_ascii=ensure_ascii)
    return "".join(out)


def write(value: Any, level: int, out: list[str], *, ensure_ascii: bool) -> None:
    """Append the text of `value`, nested `level` deep, to `out` in pieces."""
    if isinstance(value, dict):
        items: Any = value.values()
    elif isinstance(value, list | tuple):
        items = value
    else:
        out.extend(_encoder(0, ensure_ascii)(value, 0))
        return
    if not items:
        out.append("{}" if isinstance(value, dict) else "[]")
        return
    inner = "\n" + " " * (INDENT * (level + 1))
    if all(isinstance(item, _SCALARS) for item in items):
        # `{"a": 1,\n    "b": 2}` from the C encoder -> `{\n    "a": 1,\n    "b": 2\n  }`
        text = "".join(_encoder(level + 1, ensure_ascii)(value, 0))
        out.append(text[0] + inner + text[1:-1] + "\n" + " " * (INDENT * level) + text[-1])
        return
    separator = inner
    if isinstance(value, dict):
        key = encode_basestring_ascii if ensure_ascii else encode_basestring
        out.append("{")
        for name, member in value.items():
            out.append(separator + key(name) + ": ")
            write(member, level + 1, out, ensure_ascii=ensure_ascii)
            separator = "," + inner
        out.append("\n" + " " * (INDENT * level) + "}")
    else:
        out.append("[")
        for member in value:
            out.append(separator)
            write(member, level + 1, out, ensure_ascii=ensure_ascii)
            separator = "," + inner
        out.append("\n" + " " * (INDENT * level) + "]")


@cache
def _encoder(level: int, ensure_ascii: bool) -> Callable[[Any, int], list[str]]:
    """The C encoder, its item separator starting a line indented for `level`.

    Made once and called directly: `JSONEncoder.encode` would build a new one per value.
    Values here are trees made by the reporters, so the circular-reference check is off.
    """
    if c_make_encoder is None:  # a Python built without the accelerator
        encoder = json.JSONEncoder(ensure_ascii=ensure_ascii, separators=_separators(level))
        return lambda value, _: [encoder.encode(value)]
    item, key = _separators(level)
    strings = encode_basestring_ascii if ensure_ascii else encode_basestring
    made: Callable[[Any, int], list[str]] = c_make_encoder(
        None, _no_default, strings, None, key, item, False, False, True
    )
    return made


def _separators(level: int) -> tuple[str, str]:
    return (",\n" + " " * (INDENT * level) if level else ", "), ": "


def _no_default(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
