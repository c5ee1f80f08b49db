"""YAML documents with positions: safe loading only, bounded in size and depth.

PyYAML's composer gives nodes with marks; we build plain Python values ourselves and keep
the character offsets of every value (and mapping key) by path. No tag ever constructs an
object: only the standard scalar and collection tags are read, anything else is refused.
Each document is composed on its own, so one broken document does not hide the others.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

PathKey = str | int
Path = tuple[PathKey, ...]

MAX_NODES = 100_000  # per document, counting alias expansions: stops alias bombs
MAX_DEPTH = 100  # nesting levels; real manifests stay well below 40

INVALID = "invalid"
TEMPLATE = "template"

_YAML = "tag:yaml.org,2002:"
_SCALAR_TAGS = {
    f"{_YAML}{name}"
    for name in ("str", "int", "float", "bool", "null", "timestamp", "binary", "value")
}
_SEQUENCE_TAGS = {f"{_YAML}seq", f"{_YAML}omap", f"{_YAML}pairs"}
_MAPPING_TAGS = {f"{_YAML}map", f"{_YAML}set"}
_MERGE_TAG = f"{_YAML}merge"

# `---` or `...` at the start of a line separates documents; neither can occur there
# inside a scalar, so splitting on them is safe.
_DOCUMENT_MARKER = re.compile(r"^(---|\.\.\.)(?=[ \t\r\n]|$)", re.M)
_COMMENT_LINE = re.compile(r"^[ \t]*#[^\n]*", re.M)
# A Helm action: it reads the chart's values, release or chart objects, or includes.
_HELM_ACTION = re.compile(
    r"\{\{-?\s*(?:[^}\n]*\.(?:Values|Release|Chart|Capabilities|Files)\b"
    r"|(?:include|template|tpl|toYaml)\b)"
)
_ANY_ACTION = re.compile(r"\{\{.*?\}\}")


@dataclass(frozen=True)
class Positions:
    """Character offsets (start, end) of each value and each mapping key, by path.

    Offsets are in the run, not the file: the file's origin (see `load_documents`) plus
    the offset in its text, so a span says which file it is in as well as where.
    """

    values: dict[Path, tuple[int, int]]
    keys: dict[Path, tuple[int, int]]

    def locate(self, path: Path) -> tuple[int, int]:
        """The span of `path` (a mapping entry: from its key to its value), or of the
        nearest ancestor that exists."""
        for depth in range(len(path), -1, -1):
            prefix = path[:depth]
            value = self.values.get(prefix)
            if value is None:
                continue
            key = self.keys.get(prefix)
            return (key[0], value[1]) if key else value
        return (0, 0)


@dataclass(frozen=True)
class Document:
    """One YAML document that loaded cleanly."""

    index: int  # 0-based position in the file
    start: int
    end: int
    value: Any
    positions: Positions
    # The first Helm action (`{{ .Values.x }}`) in the text, if any: (offset, text).
    helm_action: tuple[int, str] | None = None
    source: str = ""  # the file's name as reports show it


@dataclass(frozen=True)
class BrokenDocument:
    """A document that could not be loaded: why, and where."""

    index: int
    start: int
    end: int
    offset: int  # where the problem is
    problem: str  # INVALID or TEMPLATE
    error: str  # a sentence fragment for the finding's message


class _Refused(Exception):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


def load_documents(text: str, source: str = "", origin: int = 0) -> list[Document | BrokenDocument]:
    """Every document of a multi-document YAML (or JSON) text, in order. `origin` is
    where the file starts among the run's files: positions are shifted by it, while the
    documents' own offsets stay offsets into `text`."""
    out: list[Document | BrokenDocument] = []
    for start, end in _chunks(text):
        out.append(_load_chunk(len(out), text, start, end, source, origin))
    return out


def _chunks(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each document's text; a `%YAML` directive stays with its document."""
    # A document starts at its `---` line, or on the line after a `...` end marker.
    bounds = [
        m.start() if m.group(1) == "---" else _line_end(text, m.end())
        for m in _DOCUMENT_MARKER.finditer(text)
    ]
    starts = [0] + sorted({b for b in bounds if 0 < b < len(text)})
    ends = starts[1:] + [len(text)]
    carried: int | None = None
    for start, end in zip(starts, ends, strict=True):
        start = start if carried is None else carried
        carried = None
        body = _code(text[start:end])
        if not body.strip():
            continue
        lines = [line.strip() for line in body.splitlines() if line.strip()]
        if end < len(text) and all(line.startswith("%") for line in lines):
            carried = start
            continue
        yield start, end


def _line_end(text: str, offset: int) -> int:
    newline = text.find("\n", offset)
    return len(text) if newline == -1 else newline + 1


def _code(chunk: str) -> str:
    """The chunk with comment lines and document markers blanked (offsets kept)."""
    return _COMMENT_LINE.sub(_blank, _DOCUMENT_MARKER.sub(_blank, chunk))


def _blank(match: re.Match[str]) -> str:
    return " " * len(match.group())


def _load_chunk(
    index: int, text: str, start: int, end: int, source: str, origin: int
) -> Document | BrokenDocument:
    chunk = text[start:end]
    try:
        nodes = list(_compose(chunk))
        if len(nodes) > 1:
            raise _Refused("this text holds several documents", nodes[1].start_mark.index)
        builder = _Builder(origin + start)
        value = builder.build(nodes[0], ()) if nodes else None
    except (_Refused, yaml.YAMLError) as exc:
        return _broken(index, chunk, start, end, exc)
    except RecursionError:  # a safety net: the depth limits above should come first
        return BrokenDocument(index, start, end, start, INVALID, "the YAML nests too deeply")
    helm = _HELM_ACTION.search(_code(chunk))
    action = (start + helm.start(), _shorten(helm.group())) if helm else None
    return Document(index, start, end, value, builder.positions(), action, source)


def _broken(index: int, chunk: str, start: int, end: int, exc: Exception) -> BrokenDocument:
    template = _ANY_ACTION.search(_code(chunk))
    if template:  # the template, not the YAML, is what the user must fix first
        action = _shorten(template.group())
        return BrokenDocument(index, start, end, start + template.start(), TEMPLATE, action)
    if isinstance(exc, _Refused):
        return BrokenDocument(index, start, end, start + exc.offset, INVALID, str(exc))
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "the text is not YAML"
        offset = start + (mark.index if mark else 0)
        return BrokenDocument(index, start, end, offset, INVALID, f"invalid YAML: {problem}")
    # Reader errors (control characters and the like) carry a position, not a mark.
    offset = start + int(getattr(exc, "position", 0) or 0)
    reason = getattr(exc, "reason", None) or str(exc)
    return BrokenDocument(index, start, end, offset, INVALID, f"invalid YAML: {reason}")


def _shorten(action: str) -> str:
    """The inside of a template action, braces and trim markers removed, for messages."""
    inner = action.strip("{}").strip("-").strip()
    return inner if len(inner) <= 40 else inner[:37] + "…"


try:  # libyaml parses about ten times faster; its marks are character offsets too
    from yaml._yaml import CParser

    class _Parser(Composer, CParser, Resolver):  # type: ignore[misc]
        """Python's composer (tags resolved, nothing constructed) over libyaml's events."""

        def __init__(self, text: str) -> None:
            CParser.__init__(self, text)
            Composer.__init__(self)
            Resolver.__init__(self)

except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _Parser = yaml.SafeLoader  # type: ignore[misc, assignment]


class _Loader(_Parser):
    """The composer with a nesting limit: it recurses once per level."""

    depth = 0

    def compose_node(self, parent: Node | None, index: object) -> Node:  # type: ignore[override]
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise _Refused(f"the YAML nests deeper than {MAX_DEPTH} levels", mark.index)
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self.depth -= 1


def _compose(chunk: str) -> Iterator[Node]:
    loader = _Loader(chunk)
    try:
        while loader.check_node():
            yield loader.get_node()
    finally:
        loader.dispose()


_SCALARS = SafeConstructor()


class _Builder:
    """Plain values from nodes, with a node budget that counts alias expansions."""

    def __init__(self, base: int) -> None:
        self.base = base
        self.count = 0
        self.values: dict[Path, tuple[int, int]] = {}
        self.keys: dict[Path, tuple[int, int]] = {}

    def positions(self) -> Positions:
        return Positions(self.values, self.keys)

    def _span(self, node: Node) -> tuple[int, int]:
        return self.base + node.start_mark.index, self.base + node.end_mark.index

    def build(self, node: Node, path: Path) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _Refused(
                f"the document expands to more than {MAX_NODES} YAML nodes"
                " (an alias bomb?), so it is not checked",
                node.start_mark.index,
            )
        if len(path) > MAX_DEPTH:
            raise _Refused(
                f"the YAML nests deeper than {MAX_DEPTH} levels (a recursive alias?)",
                node.start_mark.index,
            )
        self.values.setdefault(path, self._span(node))
        if isinstance(node, ScalarNode):
            return self._scalar(node)
        if isinstance(node, SequenceNode) and node.tag in _SEQUENCE_TAGS:
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        if isinstance(node, MappingNode) and node.tag in _MAPPING_TAGS:
            return self._mapping(node, path)
        raise _Refused(_tag_refusal(node.tag), node.start_mark.index)

    def _scalar(self, node: ScalarNode) -> Any:
        tag = node.tag
        if tag not in _SCALAR_TAGS:
            raise _Refused(_tag_refusal(tag), node.start_mark.index)
        if tag.endswith((":str", ":timestamp", ":binary", ":value")):
            return node.value
        try:
            return _SCALARS.construct_object(node, deep=False)
        except (ConstructorError, ValueError):
            return node.value

    def _mapping(self, node: MappingNode, path: Path) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                self._merge(value_node, path, result)
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            if not isinstance(key_node, ScalarNode):
                raise _Refused(
                    "a mapping key is itself a mapping or a list", key_node.start_mark.index
                )
            key = self._scalar(key_node)
            child = (*path, key)
            self.values.pop(child, None)
            self.keys[child] = self._span(key_node)
            result[key] = self.build(value_node, child)
        return result

    def _merge(self, node: Node, path: Path, into: dict[Any, Any]) -> None:
        sources = node.value if isinstance(node, SequenceNode) else [node]
        for source in sources:
            if not isinstance(source, MappingNode):
                raise _Refused("a merge key (`<<`) needs a mapping", source.start_mark.index)
            for key, value in self._mapping(source, path).items():
                into.setdefault(key, value)  # earlier merge sources win


def _tag_refusal(tag: str) -> str:
    shown = tag.replace(_YAML, "!!")
    return (
        f"the tag `{shown}` is not allowed: zdlint reads YAML safely and never constructs"
        " objects from tags"
    )
