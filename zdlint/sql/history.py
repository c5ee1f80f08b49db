"""The schema before each migration: replay the earlier files of its folder, in order.

Migrations live either flat in a folder (`0001_x.sql`, `V2__y.sql`) or one per folder
(`<timestamp>_x/migration.sql` for Prisma, `<date>_x/up.sql` for Diesel). The history of
a file is every migration of the same layout that sorts before it. A `pg_dump
--schema-only` file given with `--schema` seeds the model first.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from zdlint.discover import is_deployed_sql_name
from zdlint.source import SourceText, UndecodableFile, decode
from zdlint.sql.tools import diesel_order, migration_order

if TYPE_CHECKING:  # the parser is imported only when a file is really replayed
    from zdlint.sql.schema import Names, SchemaModel
    from zdlint.sql.snapshots import SchemaSnapshots
    from zdlint.sql.tools import ConfiguredTool

PER_FOLDER_NAMES = ("migration.sql", "up.sql")
# A replay to a file this far into its folder is worth a snapshot (see zdlint.sql.snapshots);
# a run starting there tries the snapshots of the last LOOKBACK prefixes, longest first.
SNAPSHOT_AFTER = 50
LOOKBACK = 20
_PSQL_META = re.compile(r"^\\[^\n]*", re.M)


class SchemaFileError(Exception):
    """A `--schema` file cannot be read."""


def replay_text(
    model: SchemaModel,
    text: str,
    path: Path | None,
    templates: bool,
    configured: ConfiguredTool | None = None,
) -> None:
    """Apply every deployed statement of one migration to `model`."""
    from zdlint.sql.parse import parse_statements
    from zdlint.sql.placeholders import substitute_placeholders
    from zdlint.sql.schema import table_created_by
    from zdlint.sql.tools import detect_tool

    checked = substitute_placeholders(text) if templates else text
    # psql meta-commands (`\restrict`, `\connect`) in pg_dump output are not SQL
    checked = _PSQL_META.sub(lambda m: " " * len(m.group(0)), checked)
    layout = detect_tool(path, checked, configured)
    for stmt in parse_statements(SourceText(checked)):
        if not layout.region_at(stmt.start).deploy:
            continue
        if stmt.node is not None:
            model.apply(stmt.node)
        elif created := table_created_by(stmt.text):
            model.create_unparsed_table(*created)
    model.end_session()


def load_schema_file(path: Path) -> SchemaModel:
    from zdlint.sql.schema import SchemaModel

    model = SchemaModel()
    try:
        text = decode(path.read_bytes())
    except OSError as exc:
        raise SchemaFileError(f"{path}: cannot read the schema file: {exc.strerror}") from None
    except UndecodableFile as exc:
        raise SchemaFileError(f"{path}: {exc}") from None
    replay_text(model, text, path, templates=False)
    return model


def migration_sequence(path: Path) -> tuple[Path, list[Path]]:
    """(root folder, every migration of the same layout in order) for a migration file."""
    path = path.resolve()
    if path.name in PER_FOLDER_NAMES:
        root = path.parent.parent
        order = diesel_order if path.name == "up.sql" else None
        folders = sorted(_entries(root, lambda e: e.is_dir()), key=order)
        files = [root / f / path.name for f in folders if (root / f / path.name).exists()]
    else:
        root = path.parent
        # names sort as the tool orders them (Flyway: by version); as strings, not Paths,
        # which compare far slower
        files = [
            root / name
            for name in sorted(_entries(root, lambda e: e.is_file()), key=migration_order)
            if is_deployed_sql_name(name)
        ]
    return root, files


def _entries(folder: Path, wanted: Callable[[os.DirEntry[str]], bool]) -> list[str]:
    """Names of the entries of `folder` (links followed) that are `wanted`."""
    try:
        with os.scandir(folder) as entries:
            return [e.name for e in entries if wanted(e)]
    except OSError:
        return []


@dataclass
class _Cursor:
    files: list[Path]
    position: int  # files[:position] are applied to model
    model: SchemaModel


@dataclass(frozen=True)
class _Sequence:
    files: list[Path]
    index: dict[Path, int]  # position of each file in `files`


@dataclass
class History:
    """Schema models for a run, reused while files are checked in history order."""

    seed: SchemaModel | None = None  # None: an empty schema
    enabled: bool = True
    templates: bool = False
    snapshots: SchemaSnapshots | None = None  # cached models after long replays
    # The tool the config names for a file (`Settings.tool_for`), if any
    tool_for: Callable[[Path], ConfiguredTool | None] | None = None
    # The migrations of the release being checked (resolved paths: the files added on
    # the branch, `--diff-base`): what they create, the running version does not use.
    release: frozenset[Path] = frozenset()
    _cursors: dict[tuple[Path, str], _Cursor] = field(default_factory=dict)
    # Each folder is listed once per run: listing it for every file made a run quadratic.
    _sequences: dict[tuple[Path, str], _Sequence] = field(default_factory=dict)
    # Resolving a path stats every folder above it; each file is asked about twice, and
    # a folder's files all share its resolved form.
    _resolved: dict[Path, Path] = field(default_factory=dict)
    _folders: dict[str, Path] = field(default_factory=dict)
    # Each file's cursor key and sequence (a file is asked about several times)
    _sequence_of: dict[Path, tuple[tuple[Path, str], _Sequence]] = field(default_factory=dict)
    # Digests of file contents the run holds already (resolved path -> digest)
    contents: dict[Path, str] = field(default_factory=dict)
    # For each sequence, a digest of the names and bytes of each of its prefixes
    _prefixes: dict[tuple[Path, str], list[str]] = field(default_factory=dict)
    # The names the schema held before the file being checked, for `_leave`
    _names_before: Names | None = None
    # What the Python migration front ends keep for the run (zdlint.orm.check)
    python: object = None

    def resolve(self, path: Path) -> Path:
        """`path.resolve()`, once per path and run."""
        target = self._resolved.get(path)
        if target is None:
            target = self._resolved[path] = self._resolve(path)
        return target

    def _resolve(self, path: Path) -> Path:
        if os.path.islink(path):
            return path.resolve()
        # not normalised first: `link/../x` must follow the link, as resolve() does
        folder, name = os.path.split(os.path.join(os.getcwd(), path))
        if name in ("", ".", ".."):
            return path.resolve()
        real = self._folders.get(folder)
        if real is None:
            real = self._folders[folder] = Path(os.path.realpath(folder))
        return real / name  # a child of a parsed Path: only `name` is parsed

    def _sequence(self, path: Path) -> tuple[tuple[Path, str], Path, _Sequence]:
        """(cursor key, resolved path, its migration sequence) for a migration file."""
        target = self.resolve(path)
        known = self._sequence_of.get(target)
        if known is not None:
            return known[0], target, known[1]
        per_folder = target.name in PER_FOLDER_NAMES
        key = (
            target.parent.parent if per_folder else target.parent,
            target.name if per_folder else "*",
        )
        sequence = self._sequences.get(key)
        if sequence is None:
            _, files = migration_sequence(target)
            sequence = self._sequences[key] = _Sequence(files, {f: i for i, f in enumerate(files)})
        self._sequence_of[target] = (key, sequence)
        return key, target, sequence

    def earlier(self, path: Path) -> tuple[list[Path], int]:
        """(the migration sequence of `path`, how many of its files run before `path`)."""
        _, target, sequence = self._sequence(path)
        index = sequence.index.get(target)
        files = sequence.files
        return files, _position(files, target) if index is None else index

    def _fresh_model(self) -> SchemaModel:
        if self.seed is not None:
            return copy.deepcopy(self.seed)
        from zdlint.sql.schema import SchemaModel

        return SchemaModel()

    def model_before(self, path: Path | None) -> SchemaModel:
        """The schema just before `path` runs. The caller applies `path` itself to the
        returned model while checking it, then calls `checked(path)`."""
        if path is None or not self.enabled:
            return self._fresh_model()
        key, target, sequence = self._sequence(path)
        files, index = sequence.files, sequence.index.get(target)
        if index is None:  # not part of the sequence: check it on a copy
            model = copy.deepcopy(self._advance(key, files, _position(files, target)))
        else:
            model = self._advance(key, files, index)
        self._names_before = self._enter(model, target)
        return model

    def _advance(self, key: tuple[Path, str], files: list[Path], index: int) -> SchemaModel:
        cursor = self._cursors.get(key)
        if cursor is None or cursor.position > index or cursor.files != files:
            cursor = self._cursors[key] = self._start(key, files, index)
        replayed = index - cursor.position
        for earlier in files[cursor.position : index]:
            self._replay(cursor.model, earlier)
        cursor.position = index
        if self.snapshots is not None and replayed and index >= SNAPSHOT_AFTER:
            self.snapshots.put(self._prefix_key(key, files, index), cursor.model)
        return cursor.model

    def _start(self, key: tuple[Path, str], files: list[Path], index: int) -> _Cursor:
        """A cursor at the longest snapshot of files[:index] in reach, else at the start."""
        if self.snapshots is not None and index >= SNAPSHOT_AFTER:
            for count in range(index, max(index - LOOKBACK, 0), -1):
                model = self.snapshots.get(self._prefix_key(key, files, count))
                if model is not None:
                    return _Cursor(files, count, model)
        return _Cursor(files, 0, self._fresh_model())

    def prefix_digest(self, path: Path) -> str:
        """A digest of the names and bytes of the migrations replayed before `path`."""
        files, count = self.earlier(path)
        return self._chain(self._sequence(path)[0], files, count)

    def _prefix_key(self, key: tuple[Path, str], files: list[Path], count: int) -> str:
        assert self.snapshots is not None
        return self.snapshots.key(self._chain(key, files, count))

    def _chain(self, key: tuple[Path, str], files: list[Path], count: int) -> str:
        """The digest of files[:count]: their names in the folder and their bytes."""
        from zdlint.cache import digest

        chain = self._prefixes.setdefault(key, [digest("")])
        root = str(key[0])
        while len(chain) <= count:
            earlier = files[len(chain) - 1]
            content = self.contents.get(earlier)
            if content is None:
                try:
                    content = digest(earlier.read_bytes())
                except OSError as exc:
                    content = f"unreadable: {exc.errno}"
                self.contents[earlier] = content
            released = "release" if earlier in self.release else ""
            chain.append(digest(chain[-1], str(earlier)[len(root) :], content, released))
        return chain[count]

    def checked(self, path: Path | None) -> None:
        """`path` has been applied to its model: later files continue from there."""
        if path is None or not self.enabled:
            return
        key, target, sequence = self._sequence(path)
        cursor = self._cursors.get(key)
        index = sequence.index.get(target)
        if cursor is not None and index is not None:
            cursor.position = index + 1
            self._leave(cursor.model, self._names_before)
            if cursor.position == len(sequence.files):
                # the sequence's last file: free its model, the run keeps one per folder
                # otherwise (a file checked again later replays from the start or a snapshot)
                del self._cursors[key]
        self._names_before = None

    def _replay(self, model: SchemaModel, path: Path) -> None:
        try:
            text = decode(path.read_bytes())
        except (OSError, UndecodableFile):
            return  # reported when that file itself is checked
        configured = self.tool_for(path) if self.tool_for is not None else None
        before = self._enter(model, path)
        replay_text(model, text, path, self.templates, configured)
        self._leave(model, before)

    def _enter(self, model: SchemaModel, path: Path) -> Names | None:
        """Before `path` runs on `model`: the release starts at its first migration; a
        migration outside a started release gets the names it holds now (see `_leave`)."""
        if path in self.release:
            if model.released is None:
                model.released = model.names()
            return None
        return model.names() if model.released is not None else None

    def _leave(self, model: SchemaModel, before: Names | None) -> None:
        """After a migration outside the release: the names it created are released."""
        if before is not None and model.released is not None:
            model.released.add(model.names().without(before))


def _position(files: list[Path], target: Path) -> int:
    if target.name == "up.sql":
        folder = diesel_order(target.parent.name)
        return sum(1 for f in files if diesel_order(f.parent.name) < folder)
    if target.name in PER_FOLDER_NAMES:
        return sum(1 for f in files if f < target)
    key = migration_order(target.name)
    return sum(1 for f in files if migration_order(f.name) < key)
