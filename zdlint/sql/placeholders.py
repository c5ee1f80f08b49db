"""Template placeholders (`{{ schema }}`, `@extschema@`, `$%NAME%$`) read as identifiers.

Each placeholder becomes an identifier of exactly the same length, so every position
zdlint reports still points at the right character of the original file.
"""

from __future__ import annotations

import re

_PLACEHOLDER = re.compile(
    r"\{\{.*?\}\}"  # Jinja / Go templates
    r"|@[A-Za-z_][A-Za-z0-9_]*@"  # extension scripts: @extschema@
    r"|\$%[A-Za-z_][A-Za-z0-9_]*%\$",  # Flyway-style $%NAME%$
    re.S,
)


def _identifier(match: re.Match[str]) -> str:
    text = match.group(0)
    # keep line breaks so line numbers do not move
    return "".join(ch if ch in "\r\n" else ("z" if i == 0 else "_") for i, ch in enumerate(text))


def substitute_placeholders(text: str) -> str:
    return _PLACEHOLDER.sub(_identifier, text)
