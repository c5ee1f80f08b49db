"""The findings cache: a file whose inputs have not changed is not checked again.

An entry is keyed by everything a file's findings depend on: zdlint's version, the
rule catalogue (a hash of its files), the effective settings, the file's name and
bytes, the migration-tool layout around it, and the earlier migrations its schema
history replays. So an entry is never stale: change any of them and the key changes.

Where: `$ZDLINT_CACHE_DIR`, else `$XDG_CACHE_HOME/zdlint`, else `~/.cache/zdlint`. The
cache lives outside the project on purpose: a checkout (a pull request in CI) cannot
ship entries that hide its own findings. Safe to delete at any time.

Entries are JSON (never pickle: reading one must not run code), written to a temporary
file and renamed into place, without fsync: a torn entry after a crash is just a
corrupt entry, and corrupt entries are ignored. Failing to write is never an error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from zdlint import __version__
from zdlint.findings import Finding, Severity, Span

FORMAT = 2  # bump when the entry layout changes


def cache_dir() -> Path:
    """The folder the cache lives in (it may not exist yet)."""
    explicit = os.environ.get("ZDLINT_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "zdlint"


def digest(*parts: bytes | str) -> str:
    """A hex digest of `parts`; each part is length-prefixed, so parts cannot run together."""
    import hashlib  # here, not at the top: a `--no-cache` run never needs it

    h = hashlib.blake2b(digest_size=20)
    for part in parts:
        data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


@dataclass
class JsonEntries:
    """JSON entries under `directory`, one file each, named by key: `{"key": …, FIELD: …}`."""

    FIELD: ClassVar[str]
    directory: Path
    salt: str  # zdlint version, catalogue and settings: shared by every key of a run
    writable: bool = True

    def key(self, *parts: bytes | str) -> str:
        return digest(self.salt, *parts)

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key[2:]}.json"

    def read(self, key: str) -> Any:
        """The entry's value stored under `key`; None when absent, unreadable, corrupt."""
        import json

        try:
            with open(self._path(key), "rb") as handle:
                entry = json.loads(handle.read())
            return entry[self.FIELD] if entry["key"] == key else None
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def write(self, key: str, value: object) -> None:
        """Store a value; never raises (a read-only or full disk just means no cache)."""
        if not self.writable:
            return
        import json
        import tempfile  # only when writing: it costs start-up time

        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    entry = {"key": key, self.FIELD: value}
                    json.dump(entry, handle, ensure_ascii=False, separators=(",", ":"))
                os.replace(tmp, path)
            except BaseException:
                os.unlink(tmp)
                raise
        except (OSError, ValueError):
            self.writable = False  # do not retry for every file of the run


class FindingsCache(JsonEntries):
    """Cached findings of files, under `<cache>/findings/`."""

    FIELD = "findings"

    @classmethod
    def open(cls, catalogue_hash: str, settings_fingerprint: str) -> FindingsCache:
        salt = digest(str(FORMAT), __version__, catalogue_hash, settings_fingerprint)
        return cls(cache_dir() / "findings", salt)

    def get(self, key: str) -> tuple[Finding, ...] | None:
        """The findings stored under `key`, or None (absent, unreadable or corrupt)."""
        items = self.read(key)
        try:
            return tuple(_finding(item) for item in items)
        except (ValueError, KeyError, TypeError, IndexError):
            return None

    def put(self, key: str, findings: tuple[Finding, ...]) -> None:
        """Store findings; never raises."""
        self.write(key, [_entry(f) for f in findings])


def _entry(f: Finding) -> list[object]:
    s = f.span
    return [f.code, f.rule, int(f.severity), f.path, s.line, s.column, s.end_line,
            s.end_column, f.message, f.help, f.lock, f.fixable,
            list(f.place) if f.place is not None else None]  # fmt: skip


def _finding(item: list[object]) -> Finding:
    code, rule, severity, path, line, column, end_line, end_column = item[:8]
    message, help_text, lock, fixable, place = item[8:13]
    for value in (code, rule, path, message, help_text):
        if not isinstance(value, str):
            raise TypeError("corrupt entry")
    if lock is not None and not isinstance(lock, str):
        raise TypeError("corrupt entry")
    if not isinstance(severity, int):
        raise TypeError("corrupt entry")
    if place is not None and not (isinstance(place, list) and len(place) == 3):
        raise TypeError("corrupt entry")
    return Finding(
        code=code,  # type: ignore[arg-type]
        rule=rule,  # type: ignore[arg-type]
        severity=Severity(severity),
        path=path,  # type: ignore[arg-type]
        span=Span(int(line), int(column), int(end_line), int(end_column)),  # type: ignore[call-overload]
        message=message,  # type: ignore[arg-type]
        help=help_text,  # type: ignore[arg-type]
        lock=lock,
        fixable=bool(fixable),
        place=(int(place[0]), int(place[1]), int(place[2])) if place is not None else None,
    )
