"""Template placeholders (`{{ schema }}`, `@extschema@`, `$%NAME%$`) read as identifiers.

Each value placeholder becomes an identifier of exactly the same length, one per
distinct placeholder text, so every position zdlint reports still points at the right
character of the original file and two placeholders stay two names. Template control
blocks (`{{ if … }}`, `{{ end }}`, `{% … %}`, comments) produce no SQL of their own and
become blanks. Messages made from the parsed tree name the stand-ins; `restore` puts
the original text back.
"""

from __future__ import annotations

import re
import zlib
from typing import NamedTuple

# Patterns as strings: `re` compiles them the first time a file has a candidate (most
# never do, and compiling them up front is start-up time of every one-file run).
_PLACEHOLDER = (
    r"\{\{.*?\}\}"  # Go templates, Jinja expressions
    r"|\{%.*?%\}|\{#.*?#\}"  # Jinja statements and comments
    r"|@[A-Za-z_][A-Za-z0-9_]*@"  # extension scripts: @extschema@
    r"|\$%[A-Za-z_][A-Za-z0-9_]*%\$"  # Flyway-style $%NAME%$
)
# Go template actions that print nothing, Go comments, and every Jinja statement/comment
_CONTROL = (
    r"\{\{-?\s*(?:/\*|(?:if|else|end|range|with|define|block|template|break|continue)\b)"
    r"|\{%|\{#"
)
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz_"
_CANDIDATE = re.compile(r"\{[{%#]|@|\$%")


class Substitution(NamedTuple):  # a NamedTuple: a dataclass costs start-up time
    """A text with its placeholders replaced, and how to name them again."""

    text: str
    originals: dict[str, str]  # stand-in → placeholder

    def restore(self, message: str) -> str:
        """`message` with every stand-in identifier spelled as in the file again."""
        if not self.originals or not message:
            return message
        return _stand_ins(self.originals).sub(lambda m: self.originals[m.group(0)], message)


def _stand_ins(originals: dict[str, str]) -> re.Pattern[str]:
    names = "|".join(sorted(map(re.escape, originals), key=len, reverse=True))
    # `_` ends a stand-in too: names PostgreSQL derives join them (`<table>_<col>_key`)
    return re.compile(rf"(?<![A-Za-z0-9$])(?:{names})(?![A-Za-z0-9$])")


def substitute(text: str) -> Substitution:
    """Replace the placeholders of `text` (the text itself when it has none)."""
    if _CANDIDATE.search(text) is None:
        return Substitution(text, {})
    names: dict[str, str] = {}  # placeholder → stand-in
    originals: dict[str, str] = {}

    def replace(match: re.Match[str]) -> str:
        placeholder = match.group(0)
        if re.match(_CONTROL, placeholder):
            return "".join(ch if ch in "\r\n" else " " for ch in placeholder)
        name = names.get(placeholder)
        if name is None:
            name = names[placeholder] = _new_name(placeholder, text, originals)
            originals[name] = placeholder
        # keep line breaks so line numbers do not move; the name sits on the first line
        first, newline, rest = placeholder.partition("\n")
        tail = "".join(ch if ch in "\r\n" else " " for ch in rest)
        return name + newline + tail

    replaced = re.sub(_PLACEHOLDER, replace, text, flags=re.S)
    return Substitution(replaced, originals)


def _new_name(placeholder: str, text: str, taken: dict[str, str]) -> str:
    """A lower-case identifier as long as the placeholder's first line, found neither in
    the file nor among the other stand-ins. It is derived from the placeholder, so the
    same placeholder has the same stand-in in every file (the schema model follows it
    from one migration to the next)."""
    length = len(placeholder.partition("\n")[0].rstrip("\r"))
    for salt in range(64):
        number = zlib.crc32(f"{salt}:{placeholder}".encode())
        digits = ""
        while len(digits) < length - 1:
            digits += _DIGITS[number % 37]
            number //= 37
        name = "z" + digits[: length - 1]
        if name not in taken and name not in text:
            return name
    return "z" + "_" * (length - 1)  # a placeholder too short for another unique name


def substitute_placeholders(text: str) -> str:
    return substitute(text).text
