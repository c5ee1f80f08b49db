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

# Tools that send a whole file (or section) to the server as one multi-statement batch:
# a statement that must run outside a transaction has to be alone in its file.
BATCH_TOOLS = frozenset({"golang-migrate", "prisma", "diesel", "sqlx", "dbmate"})
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
_DIESEL = re.compile(r"^(?P<stamp>\d{4}-\d{2}-\d{2}-\d{6})(?P<rest>_.*)$")


def new_location(original: Path, tool: str, index: int, slug: str) -> Path:
    """Where the `index`-th new migration (1-based) after `original` goes.

    For one-folder-per-migration tools (Prisma, Diesel) this is the new folder's file.
    """
    if tool in ("prisma", "diesel"):
        folder = original.parent
        name = _next_name(folder.name, tool, index, slug)
        return folder.parent / name / original.name
    return original.parent / _next_name(original.name, tool, index, slug)


def _next_name(name: str, tool: str, index: int, slug: str) -> str:
    suffix = "".join(Path(name).suffixes) if tool not in ("prisma", "diesel") else ""
    stem = name[: len(name) - len(suffix)] if suffix else name
    if tool == "golang-migrate" and stem.endswith((".up", ".down")):
        stem, suffix = stem.rsplit(".", 1)[0], "." + stem.rsplit(".", 1)[1] + ".sql"
    if (m := _FLYWAY.match(name)) and tool == "flyway":
        base = (
            m.group("rest")[: -len(".sql")] if m.group("rest").endswith(".sql") else m.group("rest")
        )
        return f"{m.group('prefix')}{m.group('version')}_{index}__{base}_{slug}.sql"
    if (m := _DIESEL.match(stem)) and tool == "diesel":
        stamp = datetime.strptime(m.group("stamp"), "%Y-%m-%d-%H%M%S") + timedelta(seconds=index)
        return f"{stamp:%Y-%m-%d-%H%M%S}{m.group('rest')}_{slug}"
    if m := _NUMBERED.match(stem):
        number = m.group("number")
        bumped = _timestamp_plus(number, index) or str(int(number) + index).zfill(len(number))
        return f"{bumped}{m.group('rest')}_{slug}{suffix}"
    if tool in SPLITTING_TOOLS:
        raise LayoutError(
            f"{name}: cannot tell the version from the file name, so a new migration cannot be "
            "placed right after it"
        )
    return f"{stem}_{slug}{suffix or '.sql'}"


def _timestamp_plus(number: str, seconds: int) -> str | None:
    """A YYYYMMDDHHMMSS version `seconds` later (a real time, not 20240101120060)."""
    if len(number) != len("20240101120000"):
        return None
    try:
        stamp = datetime.strptime(number, "%Y%m%d%H%M%S")
    except ValueError:
        return None
    return f"{stamp + timedelta(seconds=seconds):%Y%m%d%H%M%S}"


def version_taken(path: Path, tool: str) -> Path | None:
    """Another migration with the same version as the new `path` (which would clash)."""
    if tool in ("prisma", "diesel"):
        folder = path.parent
        prefix = folder.name.split("_", 1)[0]
        siblings = folder.parent.glob(f"{prefix}_*") if folder.parent.is_dir() else []
        return next((s for s in siblings if s != folder), None)
    match = _FLYWAY.match(path.name) if tool == "flyway" else _NUMBERED.match(path.name)
    if match is None or not path.parent.is_dir():
        return None
    key = match.group("version") if tool == "flyway" else match.group("number")
    for sibling in path.parent.iterdir():
        other = _FLYWAY.match(sibling.name) if tool == "flyway" else _NUMBERED.match(sibling.name)
        if other is not None and sibling != path:
            other_key = other.group("version") if tool == "flyway" else other.group("number")
            if other_key == key:
                return sibling
    return None


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
