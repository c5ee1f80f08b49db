"""The rule catalogue: one TOML file per rule in `rules/`, loaded and validated here.

The engine, the docs generator and the tests all read rules from here; nothing about a
rule is written twice.
"""

from __future__ import annotations

import marshal
import os
import re
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from zdlint import __version__, findings, locks, toml
from zdlint.findings import Severity
from zdlint.locks import LOCK_MODES, lock_mode

# Patterns, compiled (by `re`, which keeps them) only when a rule file is validated.
CODE_RE = r"^Z[DK]\d{3}$"
NAME_RE = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
CATEGORIES = ("syntax", "locking", "rewrite", "compatibility", "transactions", "data", "k8s")
# Which findings of one statement the reader sees first (lower first, then in the order of
# the text): the statement's own hazard (a scan, an index build, a rewrite, what breaks
# the running version), then what its transaction adds (no lock_timeout, a lock held since
# an earlier statement), then advice on data changes and column types.
READING_ORDER = dict.fromkeys(CATEGORIES, 0) | {"transactions": 1, "data": 2}
LANGUAGES = ("sql", "yaml", "python")


class CatalogueError(Exception):
    """A rule file is malformed; the message names the file and the key."""


@dataclass(frozen=True)
class Claim:
    """What a rule's bad example does on a real server."""

    lock: str | None = None  # strongest lock mode (pg_locks name) on the target table
    rewrite: bool = False
    scan: bool = False
    good_lock: str | None = None  # strongest lock a good example may take
    rejected: bool = False  # PostgreSQL refuses the bad example outright (it fails)
    on: str | None = None  # the table `lock` is measured on (default: the most locked)


@dataclass(frozen=True)
class Example:
    """One [[bad]] or [[good]] example of a rule file."""

    kind: str  # "bad" or "good"
    source: str  # SQL (or YAML) text
    setup: str = ""  # SQL run and committed first: the schema the example assumes
    path: str = ""  # virtual file name, for migration-tool detection
    pg_version: int | None = None
    encoding: str = "utf-8"
    fixed: str | None = None  # expected `zdlint fix` output, where fixable
    # Where the rule is fixable but this example is not: (part of) the reason the fix gives.
    unfixable: str | None = None
    options: dict[str, object] = field(default_factory=dict)  # config overrides
    # What this bad example does on a server, when it differs from the rule's claim (a
    # rule whose statements take several lock modes shows each in an example).
    claim: Claim | None = None


@dataclass(frozen=True)
class Rule:
    """One rule file, validated: what the engine, the docs and the tests know of a rule."""

    code: str
    name: str
    severity: Severity
    category: str
    language: str
    summary: str
    message: str  # str.format template; see zdlint.sql.engine for the fields
    help: str
    what: str
    why: str
    instead: str
    claim: Claim
    pg_min: int | None
    pg_max: int | None
    enabled: bool
    fixable: bool
    fix_safety: str
    references: tuple[str, ...]
    examples: tuple[Example, ...]
    file: Path
    # Rules whose finding on the same statement says nothing this rule's does not: when
    # both fire, only this one is reported ([relations] supersedes).
    supersedes: tuple[str, ...] = ()

    @property
    def rank(self) -> int:
        """Order among the findings of one statement: most specific first."""
        return READING_ORDER[self.category]

    def applies_to(self, pg_version: int) -> bool:
        return (self.pg_min is None or pg_version >= self.pg_min) and (
            self.pg_max is None or pg_version <= self.pg_max
        )

    @property
    def bad_examples(self) -> tuple[Example, ...]:
        return tuple(e for e in self.examples if e.kind == "bad")

    @property
    def good_examples(self) -> tuple[Example, ...]:
        return tuple(e for e in self.examples if e.kind == "good")


def rules_dir() -> Path:
    """Where the catalogue lives: inside the wheel, or at the top of a source checkout."""
    packaged = Path(__file__).parent / "_rules"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "rules"


@dataclass(frozen=True)
class Catalogue:
    """Every rule, by code, with lookups by code or name."""

    rules: tuple[Rule, ...]
    # A hash of the rule files the catalogue was loaded from ("" when built in memory).
    fingerprint: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_key", _index(self.rules))
        object.__setattr__(self, "_active", {})

    def active(self, enabled: frozenset[str], pg_version: int) -> dict[str, Rule]:
        """The rules to run by code: selected and applying to this version. The same for
        every file of a run, so worked out once."""
        memo: dict[tuple[frozenset[str], int], dict[str, Rule]] = self._active  # type: ignore[attr-defined]
        key = (enabled, pg_version)
        if key not in memo:
            memo[key] = {
                r.code: r for r in self.rules if r.code in enabled and r.applies_to(pg_version)
            }
        return memo[key]

    def get(self, key: str) -> Rule | None:
        """A rule by code or kebab-case name, in any case."""
        return self._by_key.get(key.strip().lower())  # type: ignore[attr-defined]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)


def _index(rules: tuple[Rule, ...]) -> dict[str, Rule]:
    index: dict[str, Rule] = {}
    for rule in rules:
        index[rule.code.lower()] = rule
        index[rule.name] = rule
    return index


@cache
def load_catalogue(directory: Path | None = None) -> Catalogue:
    """Load and validate every `*.toml` in the rules folder; raise CatalogueError.

    The validated rules are kept in the cache, so a run whose rule files are unchanged
    neither reads nor parses them: parsing ~80 TOML files in pure Python cost more than
    the rest of a small run.
    """
    folder = directory or rules_dir()
    stamp = _stamp(folder)
    compiled = _compiled_path(folder)
    catalogue = _read_compiled(compiled, folder, stamp) if stamp is not None else None
    if catalogue is None:
        catalogue = _parse_catalogue(folder)
        if stamp is not None:
            _write_compiled(compiled, stamp, catalogue)
    return catalogue


def _parse_catalogue(folder: Path) -> Catalogue:
    sources: list[tuple[Path, bytes]] = []
    for path in sorted(folder.glob("*.toml")):
        try:
            sources.append((path, path.read_bytes()))
        except OSError as exc:
            raise CatalogueError(f"{path}: {exc}") from None
    if not sources:
        raise CatalogueError(f"{folder}: no rule files found")
    from zdlint.cache import digest

    fingerprint = digest(*(part for path, data in sources for part in (path.name, data)))
    rules = [load_rule(path, data) for path, data in sources]
    seen: dict[str, Path] = {}
    for rule in rules:
        for key in (rule.code, rule.name):
            if key in seen:
                raise CatalogueError(f"{rule.file}: {key!r} is already used by {seen[key]}")
            seen[key] = rule.file
    _check_relations(rules)
    return Catalogue(tuple(sorted(rules, key=lambda r: r.code)), fingerprint)


def _check_relations(rules: list[Rule]) -> None:
    """No rule is superseded, through others, by itself: when all of them fired, none
    would be reported."""
    supersedes = {rule.code: rule.supersedes for rule in rules}
    for rule in rules:
        seen, todo = set(), list(rule.supersedes)
        while todo:
            code = todo.pop()
            if code == rule.code:
                raise CatalogueError(f"{rule.file}: relations.supersedes leads back to {code}")
            if code not in seen:
                seen.add(code)
                todo.extend(supersedes.get(code, ()))


# The code that turns a rule file into a Rule: editing it outdates the compiled copies.
_LOADER_FILES = (__file__, findings.__file__, locks.__file__)
COMPILED_FORMAT = 2  # bump when the layout of a compiled copy changes
Stamp = tuple[Any, ...]


def _stamp(folder: Path) -> Stamp | None:
    """What a compiled copy must have been made from: this zdlint, its loader code and
    each rule file's name, size and modification time (as a .pyc is checked against
    its source). None when a file cannot be looked at: then nothing is cached."""
    try:
        code = [(info.st_size, info.st_mtime_ns) for info in map(os.stat, _LOADER_FILES)]
        with os.scandir(folder) as entries:
            files = sorted(
                (entry.name, info.st_size, info.st_mtime_ns)
                for entry in entries
                if entry.name.endswith(".toml")
                for info in (entry.stat(),)
            )
    except (OSError, TypeError):  # TypeError: a module without a file (frozen)
        return None
    return (COMPILED_FORMAT, __version__, marshal.version, str(folder), tuple(code), tuple(files))


def _compiled_path(folder: Path) -> Path:
    """One compiled copy per rules folder (per zdlint install), in the user's cache,
    named after the folder."""
    from zdlint.cache import cache_dir

    name = "".join(c if c.isalnum() or c in "._" else "-" for c in str(folder)).strip("-")
    return cache_dir() / "catalogue" / f"{name[-200:]}.marshal"


def _read_compiled(path: Path, folder: Path, stamp: Stamp) -> Catalogue | None:
    """The catalogue kept by an earlier run from the same files, else None (missing,
    made from other files, or corrupt). marshal, unlike pickle, never runs code."""
    try:
        with open(path, "rb") as handle:
            saved, fingerprint, rows = marshal.loads(handle.read())
        if saved != stamp:
            return None
        return Catalogue(tuple(_rule_from_row(folder, row) for row in rows), fingerprint)
    except (OSError, EOFError, ValueError, TypeError, KeyError):
        return None


def _write_compiled(path: Path, stamp: Stamp, catalogue: Catalogue) -> None:
    """Keep the validated rules for the next run; failing to is never an error."""
    from zdlint.atomic import write_atomic

    try:
        rows = tuple(_row(rule) for rule in catalogue)
        data = marshal.dumps((stamp, catalogue.fingerprint, rows))
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data)
    except (OSError, ValueError):  # ValueError: a value marshal cannot hold (a date)
        pass


def _row(rule: Rule) -> dict[str, Any]:
    """A Rule as plain data that marshal can hold; `_rule_from_row` turns it back."""
    row = asdict(rule)  # Claim and Examples become dicts too
    row.update(severity=int(rule.severity), file=rule.file.name)
    return row


def _rule_from_row(folder: Path, row: dict[str, Any]) -> Rule:
    return Rule(
        **{
            **row,
            "severity": Severity(row["severity"]),
            "claim": Claim(**row["claim"]),
            "examples": tuple(
                Example(**{**e, "claim": e["claim"] and Claim(**e["claim"])})
                for e in row["examples"]
            ),
            "file": folder / row["file"],
        }
    )


def load_rule(path: Path, data: bytes | None = None) -> Rule:
    """Load and validate one rule file (from `data` when already read); raise
    CatalogueError naming the file."""
    try:
        table = toml.loads((path.read_bytes() if data is None else data).decode("utf-8"))
    except (OSError, ValueError) as exc:  # ValueError: not UTF-8, or not TOML
        raise CatalogueError(f"{path}: {exc}") from None
    return rule_from_table(path, table)


def rule_from_table(path: Path, data: dict[str, Any]) -> Rule:
    """Validate one rule file's parsed TOML into a Rule; raise CatalogueError."""
    r = _Reader(path, data)
    code = r.string("code", pattern=CODE_RE)
    name = r.string("name", pattern=NAME_RE)
    if path.stem not in (code, name, f"{code}-{name}"):
        raise CatalogueError(f"{path}: file name should be {code}-{name}.toml")
    try:
        severity = Severity.parse(r.string("severity"))
    except ValueError as exc:
        raise CatalogueError(f"{path}: severity: {exc}") from None
    category = r.string("category", choices=CATEGORIES)
    language = r.string("language", choices=LANGUAGES, default="sql")
    claim = _claim(path, r.table("claim", default={}), "claim.")
    doc = _Reader(path, r.table("doc"), prefix="doc.")
    what, why, instead = doc.string("what"), doc.string("why"), doc.string("instead")
    fix_safety = doc.string("fix_safety", default="")
    references = tuple(doc.string_list("references", default=[]))
    doc.done()
    relations = _Reader(path, r.table("relations", default={}), prefix="relations.")
    supersedes = tuple(relations.string_list("supersedes", default=[]))
    if any(not re.match(CODE_RE, c) or c == code for c in supersedes):
        raise CatalogueError(f"{path}: relations.supersedes must list other rules' codes")
    relations.done()
    examples = tuple(
        _example(path, kind, i, item)
        for kind in ("bad", "good")
        for i, item in enumerate(r.table_list(kind))
    )
    if not any(e.kind == "bad" for e in examples) or not any(e.kind == "good" for e in examples):
        raise CatalogueError(f"{path}: a rule needs at least one [[bad]] and one [[good]] example")
    rule = Rule(
        code=code,
        name=name,
        severity=severity,
        category=category,
        language=language,
        summary=r.string("summary", max_length=1024),
        message=r.string("message"),
        help=r.string("help"),
        what=what,
        why=why,
        instead=instead,
        claim=claim,
        pg_min=r.integer("pg_min", default=None),
        pg_max=r.integer("pg_max", default=None),
        enabled=r.boolean("enabled", default=True),
        fixable=r.boolean("fixable", default=False),
        fix_safety=fix_safety,
        references=references,
        examples=examples,
        file=path,
        supersedes=supersedes,
    )
    r.done()
    return rule


def _claim(path: Path, data: object, prefix: str) -> Claim:
    c = _Reader(path, data, prefix=prefix)
    claim = Claim(
        lock=c.lock("lock"),
        rewrite=c.boolean("rewrite", default=False),
        scan=c.boolean("scan", default=False),
        good_lock=c.lock("good_lock"),
        rejected=c.boolean("rejected", default=False),
        on=c.string("on", default=None),
    )
    c.done()
    return claim


def _example(path: Path, kind: str, index: int, data: object) -> Example:
    prefix = f"{kind}[{index}]."
    e = _Reader(path, data, prefix=prefix)
    key = next((k for k in ("yaml", "python") if k in e.data), "sql")
    source = e.string(key)
    example = Example(
        kind=kind,
        source=source or "",
        setup=e.string("setup", default=""),
        path=e.string("path", default=""),
        pg_version=e.integer("pg_version", default=None),
        encoding=e.string("encoding", default="utf-8"),
        fixed=e.string("fixed", default=None),
        unfixable=e.string("unfixable", default=None),
        options=e.table("options", default={}),
        claim=_claim(path, e.table("claim"), f"{prefix}claim.") if "claim" in e.data else None,
    )
    e.done()
    return example


_REQUIRED: object = object()


class _Reader:
    """Typed access to one TOML table that remembers which keys were read."""

    def __init__(self, path: Path, data: object, prefix: str = "") -> None:
        if not isinstance(data, dict):
            raise CatalogueError(f"{path}: {prefix.rstrip('.') or 'file'} must be a table")
        self.path, self.data, self.prefix = path, data, prefix
        self.used: set[str] = set()

    def _get(self, key: str, kind: type, default: object) -> object:
        self.used.add(key)
        if key not in self.data:
            if default is _REQUIRED:
                raise CatalogueError(f"{self.path}: missing key {self.prefix}{key}")
            return default
        value = self.data[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise CatalogueError(f"{self.path}: {self.prefix}{key} must be of type {kind.__name__}")
        return value

    def string(
        self,
        key: str,
        default: object = _REQUIRED,
        pattern: str | None = None,
        choices: tuple[str, ...] | None = None,
        max_length: int | None = None,
    ) -> Any:
        value = self._get(key, str, default)
        if not isinstance(value, str):
            return value
        if pattern is not None and not re.match(pattern, value):
            raise CatalogueError(f"{self.path}: {self.prefix}{key} = {value!r} is malformed")
        if choices is not None and value not in choices:
            raise CatalogueError(
                f"{self.path}: {self.prefix}{key} = {value!r}; expected one of {', '.join(choices)}"
            )
        if max_length is not None and len(value) > max_length:
            raise CatalogueError(f"{self.path}: {self.prefix}{key} is over {max_length} characters")
        return value

    def integer(self, key: str, default: object = _REQUIRED) -> Any:
        return self._get(key, int, default)

    def boolean(self, key: str, default: bool) -> bool:
        return bool(self._get(key, bool, default))

    def lock(self, key: str) -> str | None:
        value = self._get(key, str, None)
        if value is None:
            return None
        try:
            return lock_mode(str(value)).name
        except KeyError:
            raise CatalogueError(
                f"{self.path}: {self.prefix}{key} = {value!r}; expected one of "
                + ", ".join(LOCK_MODES)
            ) from None

    def table(self, key: str, default: object = _REQUIRED) -> Any:
        return self._get(key, dict, default)

    def table_list(self, key: str) -> list[Any]:
        return self._get(key, list, [])  # type: ignore[return-value]

    def string_list(self, key: str, default: list[str]) -> list[str]:
        value = self._get(key, list, default)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise CatalogueError(f"{self.path}: {self.prefix}{key} must be a list of strings")
        return value

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise CatalogueError(f"{self.path}: unknown key {self.prefix}{unknown[0]}")
