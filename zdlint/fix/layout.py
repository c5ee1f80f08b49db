"""Writing a plan in the migration tool's layout.

The fixed migration is a sequence of units: the user's statements (kept as written,
comments included) and plan steps, each to run in the open transaction, in a new one,
or outside any. Tools that run a file statement by statement (psql, sqitch, a goose
`NO TRANSACTION` file…) get it in place, with explicit BEGIN/COMMIT around steps that
belong together. Tools that wrap a whole file in one transaction, or send it as one
batch, get the units cut into segments: the first stays in the file, each later one
becomes a new migration that sorts right after it, carrying the tool's marker when it
must run outside a transaction. Contract steps go to the contract folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from zdlint.fix.plan import Step
from zdlint.sql.tools import POP_DIALECTS, flyway_version, foreign_dialect

# Tools that send a whole file (or section) to the server as one multi-statement batch:
# a statement that must run outside a transaction has to be alone in its file.
BATCH_TOOLS = frozenset({"golang-migrate", "prisma", "diesel", "sqlx", "dbmate", "pop"})
# Tools whose files are applied once and then verified by checksum.
CHECKSUM_TOOLS = frozenset({"flyway", "liquibase", "sqlx", "atlas", "prisma"})
SPLITTING_TOOLS = frozenset(
    {
        "goose",
        "dbmate",
        "sql-migrate",
        "sqlx",
        "atlas",
        "flyway",
        "golang-migrate",
        "prisma",
        "diesel",
        "pop",
    }
)

KEEP, JOIN, NEW, NONE = "keep", "join", "new", "none"


class LayoutError(Exception):
    """The fix cannot be written in this tool's layout; the message says why."""


@dataclass
class Unit:
    text: str  # SQL with its comments, ending in ";"
    mode: str  # keep | join | new | none
    setting: bool = False  # a session SET of a timeout: new files repeat it


@dataclass
class Segment:
    transactional: bool  # runs inside one transaction (the tool's or our BEGIN/COMMIT)
    units: list[Unit] = field(default_factory=list)
    alone: bool = False  # one statement that must run outside a transaction, by itself

    @property
    def has_work(self) -> bool:
        return any(not u.setting for u in self.units)


def step_units(steps: tuple[Step, ...] | list[Step], first_joins: bool = True) -> list[Unit]:
    """Units for plan steps: the first transactional step joins the open transaction."""
    units = []
    previous: Step | None = None
    for step in steps:
        text = step.sql.rstrip() + ";"
        if not step.in_transaction:
            mode = NONE
        elif step.new_transaction or (previous is not None and not previous.in_transaction):
            mode = NEW
        elif previous is None and not first_joins:
            mode = NEW
        else:
            mode = JOIN
        units.append(Unit(text, mode))
        previous = step
    return units


# --- in place: statement by statement -------------------------------------------------


def inline_steps(steps: tuple[Step, ...], in_explicit_transaction: bool) -> str:
    """Steps written where the statement was, for a file run statement by statement."""
    lines: list[str] = []
    open_tx = in_explicit_transaction
    groups = _groups(step_units(steps))
    for i, (transactional, units) in enumerate(groups):
        texts = [u.text for u in units]
        if in_explicit_transaction:
            # the first step joins the open transaction unless it must start a new one
            if i > 0 or not transactional or units[0].mode == NEW:
                if open_tx:
                    lines.append("COMMIT;")
                    open_tx = False
                if transactional:
                    lines.append("BEGIN;")
                    open_tx = True
            lines.extend(texts)
        elif transactional and len(texts) > 1:
            lines += ["BEGIN;", *texts, "COMMIT;"]
        else:
            lines.extend(texts)
    if in_explicit_transaction and not open_tx:
        lines.append("BEGIN;")  # the file's own COMMIT follows
    return "\n".join(lines)


def _groups(units: list[Unit]) -> list[tuple[bool, list[Unit]]]:
    groups: list[tuple[bool, list[Unit]]] = []
    for unit in units:
        if unit.mode == NONE:
            groups.append((False, [unit]))
        elif unit.mode == NEW or not groups or not groups[-1][0]:
            groups.append((True, [unit]))
        else:
            groups[-1][1].append(unit)
    return groups


# --- cut into segments -------------------------------------------------------------------


def segments(units: list[Unit], tool: str, wrapped: bool) -> list[Segment]:
    """Cut units into segments, each a file (or section) the tool can run as is."""
    batch = tool in BATCH_TOOLS
    out = [Segment(transactional=wrapped)]
    for unit in units:
        current = out[-1]
        if unit.mode == NONE:
            if not batch and not current.transactional and not current.alone:
                current.units.append(unit)
            else:
                out.append(Segment(False, [unit], alone=batch))
            continue
        if unit.setting and not current.alone:
            current.units.append(unit)
            continue
        fits = not current.alone and (
            current.transactional or (unit.mode == KEEP and current is out[0])
        )
        if unit.mode == NEW and current.has_work:
            fits = False
        if fits:
            current.units.append(unit)
        else:
            out.append(Segment(True, [unit]))
    return out


# --- new file names --------------------------------------------------------------------

_NUMBERED = re.compile(r"^(?P<number>\d+)(?P<rest>_.*)$")
_FLYWAY = re.compile(r"^(?P<prefix>[VR])(?P<version>\d+(?:[._]\d+)*)__(?P<rest>.+)$", re.I)
_DIESEL_STAMP = "%Y-%m-%d-%H%M%S"
_DIALECTS = "|".join(sorted(POP_DIALECTS, key=len, reverse=True))
# What ends a migration's file name and is not part of its name: `.sql`, golang-migrate's
# `.up.sql`, pop's `[.<dialect>][.autocommit].up.sql`. A dotted name (`0150_2.14.0_x.sql`)
# keeps its dots.
_SUFFIX = re.compile(
    r"(?:\.(?:" + _DIALECTS + r"))?"
    r"(?:\.autocommit)?(?:\.(?:up|down))?\.sql$",
    re.I,
)
_POP_TAIL = re.compile(rf"(?P<dialect>\.(?:{_DIALECTS}))?(?P<autocommit>\.autocommit)?\.up\.sql$")
# Tools that order migrations by comparing version strings (folder names); the others
# compare numbers, where no version fits between two consecutive ones.
_STRING_ORDER = frozenset({"prisma", "diesel"})
_SLUG_TAIL = re.compile(r"_zdlint_fix(?:_\d+)?$")


def migration_suffix(name: str) -> str:
    """The part of a migration file name that marks its kind: `.up.sql`, `.sql`, …"""
    match = _SUFFIX.search(name)
    return match.group(0) if match else ""


def new_locations(original: Path, tool: str, count: int, slug: str) -> list[Path]:
    """Where the `count` new migrations that run right after `original` go, in order.

    Each sorts after `original` and before the migration that follows it in its folder,
    in the order the tool sorts (numbers compared as numbers, Flyway versions part by
    part, Prisma and Diesel folder names as strings), and none shares a version with an
    existing one. A name made by an earlier run is not given the slug twice. Raises
    LayoutError when no such names exist. For one-folder-per-migration tools (Prisma,
    Diesel) each path is the new folder's file.
    """
    per_folder = tool in _STRING_ORDER
    name = original.parent.name if per_folder else original.name
    folder = original.parent.parent if per_folder else original.parent
    siblings = _sibling_names(folder, per_folder)
    names = _new_names(name, tool, count, slug, siblings)
    if per_folder:
        return [folder / n / original.name for n in names]
    return [folder / n for n in names]


def check_pop_dialect(path: Path) -> None:
    """A pop migration without a dialect in its name runs on every database the project
    targets: when the folder holds migrations for other databases too, rewriting it into
    PostgreSQL-only SQL would break them (LayoutError says so)."""
    m = _POP_TAIL.search(path.name)
    if m is None or m.group("dialect"):
        return
    others = sorted({d for s in _sibling_names(path.parent, False) if (d := foreign_dialect(s))})
    if others:
        raise LayoutError(
            f"{path.name} runs on every database pop targets here ({', '.join(others)} too): "
            "put the PostgreSQL fix in a .postgres. variant of it by hand"
        )


def segment_path(path: Path, tool: str, segment: Segment) -> Path:
    """The new migration's path as the segment needs it: pop runs a file outside a
    transaction exactly when its name says `.autocommit`."""
    m = _POP_TAIL.search(path.name) if tool == "pop" else None
    if m is None:
        return path
    autocommit = "" if segment.transactional else ".autocommit"
    return path.with_name(f"{path.name[: m.start()]}{m.group('dialect') or ''}{autocommit}.up.sql")


def _sibling_names(folder: Path, per_folder: bool) -> list[str]:
    try:
        entries = list(folder.iterdir())
    except OSError:
        return []
    return [e.name for e in entries if e.is_dir() == per_folder]


def _new_names(name: str, tool: str, count: int, slug: str, siblings: list[str]) -> list[str]:
    suffix = "" if tool in _STRING_ORDER else migration_suffix(name)
    stem = name[: len(name) - len(suffix)]
    tail = "" if _SLUG_TAIL.search(stem) else f"_{slug}"
    if tool == "flyway" and (m := _FLYWAY.match(name)):
        return _flyway_names(m, count, tail, siblings)
    if tool in _STRING_ORDER:
        return _string_names(stem, tail, tool, count, siblings)
    if m := _NUMBERED.match(stem):
        return _numbered_names(name, m, suffix, tail, tool, count, siblings)
    if tool in SPLITTING_TOOLS:
        raise LayoutError(
            f"{name}: cannot tell the version from the file name, so a new migration cannot be "
            "placed right after it"
        )
    ending = suffix or ".sql"
    return [f"{stem}{tail}{'' if k == 1 else f'_{k}'}{ending}" for k in range(1, count + 1)]


def _numbered_names(
    name: str,
    m: re.Match[str],
    suffix: str,
    tail: str,
    tool: str,
    count: int,
    siblings: list[str],
) -> list[str]:
    """Numbered tools compare versions as numbers: number + 1, + 2, … (a YYYYMMDDHHMMSS
    version by seconds), each below the next migration's and not taken."""
    number = m.group("number")
    numbers = {int(v): s for s in siblings if (v := _version_of(s, tool)) is not None}
    later = sorted(n for n in numbers if n > int(number))
    names = []
    for k in range(1, count + 1):
        bumped = _timestamp_plus(number, k) or str(int(number) + k).zfill(len(number))
        if int(bumped) in numbers or (later and int(bumped) >= later[0]):
            following = numbers.get(int(bumped)) or numbers[later[0]]
            raise LayoutError(
                f"{name}: no version is free between it and {following} for the {count} new "
                "migration(s) the fix needs; renumber the later migrations or split this one "
                "by hand"
            )
        names.append(f"{bumped}{m.group('rest')}{tail}{suffix}")
    return names


def _string_names(stem: str, tail: str, tool: str, count: int, siblings: list[str]) -> list[str]:
    """Prisma and Diesel compare folder names (Diesel: the part before the first `_`,
    dashes removed) as strings: a few seconds later when that still sorts before the next
    migration, else a longer version that sorts right after this one."""
    own = _version_of(stem, tool) or stem
    versions = {v for s in siblings if (v := _version_of(s, tool)) is not None}
    later = sorted(v for v in versions if v > own)

    def fits(names: list[str]) -> bool:
        new = [_version_of(n, tool) or n for n in names]
        return all(v > own and v not in versions and (not later or v < later[0]) for v in new)

    head, sep, rest = stem.partition("_")
    bumped = [_later_stamp(head, k) for k in range(1, count + 1)]
    candidates = [f"{b}{sep}{rest}{tail}" for b in bumped if b is not None]
    if len(candidates) == count and fits(candidates):
        return candidates
    if tool == "diesel":  # the version is the folder's stamp: lengthen it
        names = [f"{head}-{k:04d}{sep}{rest}{tail}" for k in range(1, count + 1)]
    else:
        width = len(str(count))
        names = [f"{stem}{tail}_{k:0{width}d}" for k in range(1, count + 1)]
    if not fits(names):
        raise LayoutError(
            f"{stem}: no name is free right after it for the new migration(s) the fix needs; "
            "split this one by hand"
        )
    return names


def _later_stamp(head: str, seconds: int) -> str | None:
    """The version `head` (a Diesel YYYY-MM-DD-HHMMSS stamp or a number) `seconds` later,
    or None when it is neither (or a real time cannot be made of it)."""
    try:
        stamp = datetime.strptime(head, _DIESEL_STAMP)
    except ValueError:
        pass
    else:
        return f"{stamp + timedelta(seconds=seconds):{_DIESEL_STAMP}}"
    if not head.isdigit():
        return None
    bumped = _timestamp_plus(head, seconds) or str(int(head) + seconds).zfill(len(head))
    return bumped if len(bumped) == len(head) else None


def _version_of(name: str, tool: str) -> str | None:
    """The version a migration name carries, as its tool compares it."""
    if tool == "diesel":
        return name.split("_", 1)[0].replace("-", "")
    if tool == "prisma":
        return name
    m = _NUMBERED.match(name)
    return m.group("number") if m else None


def _timestamp_plus(number: str, seconds: int) -> str | None:
    """A YYYYMMDDHHMMSS version `seconds` later (a real time, not 20240101120060)."""
    if len(number) != len("20240101120000"):
        return None
    try:
        stamp = datetime.strptime(number, "%Y%m%d%H%M%S")
    except ValueError:
        return None
    return f"{stamp + timedelta(seconds=seconds):%Y%m%d%H%M%S}"


def _flyway_names(m: re.Match[str], count: int, tail: str, siblings: list[str]) -> list[str]:
    version = m.group("version")
    own = flyway_version(m.group(0))
    base = m.group("rest")[: -len(".sql")] if m.group("rest").endswith(".sql") else m.group("rest")
    taken = {v for s in siblings if (v := flyway_version(s)) is not None}
    later = sorted(v for v in taken if own is not None and v > own)
    for zeros in range(4):  # V2 → V2_1, or V2_0_1 when V2_1 exists, …
        names = []
        for k in range(1, count + 1):
            parts = [version, *["0"] * zeros, str(k)]
            new = f"{m.group('prefix')}{'_'.join(parts)}__{base}{tail}.sql"
            new_version = flyway_version(new)
            after_next = later and new_version is not None and new_version >= later[0]
            if new_version in taken or after_next:
                break
            names.append(new)
        else:
            return names
    raise LayoutError(
        f"{m.group(0)}: no Flyway version is free between it and the next migration; "
        "split this one by hand"
    )


# --- file contents per tool --------------------------------------------------------------


def _dollar_bodies(text: str, begin: str, end: str) -> str:
    """goose and sql-migrate split on `;` unless a statement is fenced."""
    if "$" not in text:
        return text
    return f"{begin}\n{text}\n{end}"


def render_new_file(tool: str, segment: Segment, header: str = "") -> dict[str, str]:
    """The files (relative names: "" is the migration itself) for a new segment."""
    units = segment.units
    body_units = [u.text for u in units]
    no_tx = not segment.transactional
    if tool == "goose":
        body_units = [
            _dollar_bodies(t, "-- +goose StatementBegin", "-- +goose StatementEnd")
            for t in body_units
        ]
    if tool == "sql-migrate":
        body_units = [
            _dollar_bodies(t, "-- +migrate StatementBegin", "-- +migrate StatementEnd")
            for t in body_units
        ]
    body = "\n".join(body_units) + "\n"
    head = header
    files: dict[str, str] = {}
    if tool == "goose":
        text = head + ("-- +goose NO TRANSACTION\n" if no_tx else "") + "-- +goose Up\n" + body
    elif tool == "dbmate":
        text = (
            head
            + "-- migrate:up"
            + (" transaction:false" if no_tx else "")
            + "\n"
            + body
            + "\n-- migrate:down\n"
        )
    elif tool == "sql-migrate":
        text = head + "-- +migrate Up" + (" notransaction" if no_tx else "") + "\n" + body
    elif tool == "sqlx":
        text = ("-- no-transaction\n" if no_tx else "") + head + body
    elif tool == "atlas":
        text = ("-- atlas:txmode none\n\n" if no_tx else "") + head + body
    elif tool == "flyway":
        text = head + body
        if no_tx:
            files[".conf"] = "executeInTransaction=false\n"
    elif tool == "diesel":
        text = head + body
        files["metadata.toml"] = f"run_in_transaction = {'false' if no_tx else 'true'}\n"
        files["down.sql"] = "-- written by zdlint fix: nothing to undo automatically\n"
    else:  # golang-migrate, prisma, psql, sqitch
        text = head + body
    files[""] = text
    return files
