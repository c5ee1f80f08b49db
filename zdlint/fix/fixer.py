"""Fix one migration file: lint it with plans attached, then write the plans out."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path

from pglast import ast

from zdlint.catalogue import Catalogue, Rule
from zdlint.config import Settings, enabled_codes
from zdlint.discover import SQL, Target
from zdlint.findings import Finding, Hit
from zdlint.fix import layout as lay
from zdlint.fix import split
from zdlint.fix.plan import FixOptions, Plan, Step, Unfixable
from zdlint.fix.planners import plan_for
from zdlint.fix.planners.commits import out_from_under_lock
from zdlint.sql.history import replay_text
from zdlint.sql.parse import Statement
from zdlint.sql.schema import SchemaModel
from zdlint.sql.state import MigrationState
from zdlint.sql.tools import Region

LOCK_TIMEOUT, STATEMENT_TIMEOUT = "ZD401", "ZD410"
WORK_AFTER_LOCK = "ZD409"
TIMEOUT_RULES = {LOCK_TIMEOUT: "lock_timeout", STATEMENT_TIMEOUT: "statement_timeout"}
# Findings expected on the steps zdlint writes (the contract drops what expand replaced).
GENERATED_SUPPRESSIONS = {
    "ZD302": "contract step: the new column takes the name of the one it replaces",
    "ZD304": "contract step: no running version uses this column any more",
    "ZD305": "contract step: no running version uses this table any more",
    "ZD306": "the sync function and batch procedure belong to this rewrite only",
}
_DIRECTIVE = re.compile(
    r"--\s*(\+goose|migrate:|\+migrate|no-transaction|atlas:|liquibase|changeset)[^\n]*\n?", re.I
)

_EMPTY_TRANSACTION = re.compile(r"^BEGIN;\n(?:\s*\n)*COMMIT;(?:\n|\Z)", re.M)

HEADER = "-- Written by zdlint fix"


class FixRefused(Exception):
    """The file cannot be fixed at all (syntax error, unknown layout); nothing is written.

    `codes` are the rules whose findings would have been fixed (empty when the file was
    refused before its findings were known)."""

    def __init__(self, message: str, codes: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.codes = codes


@dataclass(frozen=True)
class Output:
    path: Path
    text: str
    original: str | None  # what was read, for files that exist; None for new files


@dataclass
class FileFix:
    display: str
    outputs: list[Output] = field(default_factory=list)
    fixed: list[Finding] = field(default_factory=list)
    unfixable: list[tuple[Finding, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    plans: list[Plan] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(o.text != o.original for o in self.outputs)


@dataclass
class _Planned:
    plan: Plan
    explicit: bool  # the statement ran inside an explicit BEGIN … COMMIT
    region: Region


def fix_text(
    display: str,
    path: Path,
    text: str,
    settings: Settings,
    catalogue: Catalogue,
    options: FixOptions,
    schema: SchemaModel | None = None,
) -> FileFix:
    """The fixed files for one migration (`path` names it for tool detection and names).

    An ALTER TABLE with several subcommands that holds a finding no plan could rewrite
    whole is split into one statement per subcommand (where that does the same) and the
    file fixed again; the split stays only where one of its parts was then fixed."""
    args = (display, path, settings, catalogue, options)
    if not any(split.is_multi_alter(s) for s in _parse(text)):
        return _fix_once(*args, text, schema).report
    trial = _fix_once(*args, text, copy.deepcopy(schema)) if schema is not None else None
    first = trial or _fix_once(*args, text, None)
    chosen = first.report
    statements = {s.index: s for s in first.statements}
    candidates = {i for i in first.refused if split.is_multi_alter(statements[i])}
    while candidates:
        rewrite = split.rewrite(text, [statements[i] for i in sorted(candidates)])
        if rewrite is None:
            break
        trial = _fix_once(
            *args, rewrite.text, copy.deepcopy(schema) if schema is not None else None
        )
        useless = {
            i
            for i in candidates
            if (region := rewrite.regions.get(i)) is None or not _gains(first, trial, region)
        }
        if not useless:
            gone = [
                f
                for i in candidates
                for f in _findings_in(first, statements[i].start, statements[i].end + 1)
                if f.code not in {g.code for g in _findings_in(trial, *rewrite.span_of(i))}
            ]
            chosen = rewrite.restore(trial.report, text, gone)
            if not chosen.outputs:  # splitting alone was the fix
                chosen.outputs = [Output(path, rewrite.text, text)]
            break
        candidates -= useless
    if schema is not None:  # the trials ran on copies: the file still has to happen
        replay_text(schema, text, path, settings.templates, settings.tool_for(path))
    return chosen


@dataclass
class _Pass:
    report: FileFix
    statements: list[Statement]
    refused: set[int]  # statements with a finding a plan could not rewrite
    planned: list[int]  # where the statements that got a plan start
    found: list[tuple[Finding, int]]  # each fixable finding, with where its statement starts


def _findings_in(done: _Pass, start: int, end: int) -> list[Finding]:
    return [f for f, at in done.found if start <= at < end]


def _gains(first: _Pass, trial: _Pass, region: split.Region) -> bool:
    """The parts of a split statement got a plan, or fewer findings than it had."""
    start, end = region.new_start, region.new_end
    if any(start <= at < end for at in trial.planned):
        return True
    stmt = region.statement
    return len(_findings_in(trial, start, end)) < len(_findings_in(first, stmt.start, stmt.end + 1))


def _fix_once(
    display: str,
    path: Path,
    settings: Settings,
    catalogue: Catalogue,
    options: FixOptions,
    text: str,
    schema: SchemaModel | None,
) -> _Pass:
    from zdlint.finding_factory import make_finding
    from zdlint.sql.engine import lint_sql, options_for
    from zdlint.suppressions import apply_suppressions

    enabled = enabled_codes(settings, catalogue, str(path))
    sql_options = options_for(settings, enabled, path)
    context: dict[int, tuple[bool, Region]] = {}

    def hook(rule: Rule, stmt: Statement, state: MigrationState, hit: Hit) -> object | None:
        context[stmt.index] = (state.explicit_transaction, state.region)  # type: ignore[assignment]
        plan = plan_for(rule.code, stmt, state, hit, options)
        if isinstance(plan, Plan) and WORK_AFTER_LOCK in rule.supersedes:
            plan = out_from_under_lock(plan, stmt, state)
        return plan

    result = lint_sql(display, text, sql_options, catalogue, path, schema, plan_hook=hook)
    for stmt in result.statements:
        if stmt.node is None and result.layout.region_at(stmt.start).deploy:
            span = stmt.span
            raise FixRefused(
                f"{display}:{span.line}:{span.column}: cannot fix a file with a syntax error "
                f"({stmt.error}); nothing was written"
            )
    index_of = {id(f): i for f, i in result.findings}
    unused_rule = catalogue.get("ZD002")

    def make_unused(start: int, end: int, fields: dict[str, object]) -> Finding | None:
        return make_finding(unused_rule, display, result.source, start, end, Hit(fields))  # type: ignore[arg-type]

    kept = apply_suppressions(
        result.findings, [s.comment_start for s in result.statements], text, catalogue, make_unused
    )
    report = FileFix(display)
    planned: dict[int, _Planned] = {}
    refused: set[int] = set()
    found: list[tuple[Finding, int]] = []
    chosen = _chosen_plans(kept, index_of)
    for finding in kept:
        if finding.code not in enabled or not finding.fixable:
            continue
        if finding.code in TIMEOUT_RULES:
            report.fixed.append(finding)
            continue
        fix = finding.fix
        index = index_of.get(id(finding))
        if index is not None:
            found.append((finding, result.statements[index].start))
        winner = chosen.get(index) if index is not None else None
        if winner is not None and winner is not fix and finding.code in winner.covers:
            report.fixed.append(finding)  # the statement's plan removes this finding too
            continue
        if index is not None and not (isinstance(fix, Plan) and fix is winner):
            refused.add(index)
        if isinstance(fix, Unfixable):
            report.unfixable.append((finding, fix.reason))
        elif not isinstance(fix, Plan) or index is None:
            report.unfixable.append((finding, "zdlint has no rewrite for this rule yet"))
        elif index in planned or fix is not winner:
            rule = winner.rule if winner is not None else planned[index].plan.rule
            report.unfixable.append(
                (finding, f"{rule} already rewrites this statement; run fix again")
            )
        elif _splits_the_users_transaction(fix, *context[index]):
            report.unfixable.append(
                (
                    finding,
                    f"the statement is inside BEGIN … COMMIT in a file {result.layout.tool} "
                    "sends as one batch, and its rewrite needs steps outside that transaction; "
                    "move it after the COMMIT",
                )
            )
        else:
            explicit, region = context[index]
            planned[index] = _Planned(fix, explicit, region)
            report.plans.append(fix)
            report.fixed.append(finding)
    starts = [result.statements[i].start for i in planned]
    done = _Pass(report, result.statements, refused, starts, found)
    if not report.fixed:
        return done
    writer = _Writer(
        path, text, result.statements, result.layout.tool, settings, catalogue, enabled, options
    )
    try:
        outputs = writer.write(planned)
    except lay.LayoutError as exc:
        raise FixRefused(
            f"{display}: {result.substitution.restore(str(exc))}; nothing was written",
            tuple(f.code for f in report.fixed),
        ) from None
    # the plans name template placeholders by their stand-ins: written as in the file
    restore = result.substitution.restore
    report.outputs = [Output(o.path, restore(o.text), o.original) for o in outputs]
    report.notes.extend(restore(note) for note in writer.notes)
    return done


def _chosen_plans(kept: list[Finding], index_of: dict[int, int]) -> dict[int, Plan]:
    """The plan each statement gets: its first finding's, unless a later finding's plan
    also removes the first one's finding (its `covers`)."""
    chosen: dict[int, Plan] = {}
    for finding in kept:
        index, fix = index_of.get(id(finding)), finding.fix
        if index is None or not isinstance(fix, Plan):
            continue
        current = chosen.get(index)
        if current is None or (current.rule in fix.covers and fix.rule not in current.covers):
            chosen[index] = fix
    return chosen


class _Writer:
    def __init__(
        self,
        path: Path,
        text: str,
        statements: list[Statement],
        tool: str,
        settings: Settings,
        catalogue: Catalogue,
        enabled: frozenset[str],
        options: FixOptions,
    ) -> None:
        self.path, self.text, self.statements, self.tool = path, text, statements, tool
        self.settings, self.catalogue, self.enabled, self.options = (
            settings,
            catalogue,
            enabled,
            options,
        )
        self.notes: list[str] = []

    @property
    def _migration_name(self) -> str:
        """What names the migration: its folder for Prisma and Diesel, else the file."""
        if self.tool in ("prisma", "diesel"):
            return self.path.parent.name
        return self.path.name

    # --- pieces of the original text -------------------------------------------------

    def _statement_end(self, stmt: Statement) -> int:
        """Just past the statement's `;`, its same-line comment and the newline."""
        text, i = self.text, stmt.end
        while i < len(text) and text[i] in " \t":
            i += 1
        if i < len(text) and text[i] == ";":
            i += 1
        newline = text.find("\n", i)
        rest = text[i:] if newline == -1 else text[i:newline]
        if not rest.strip() or rest.strip().startswith("--"):
            return len(text) if newline == -1 else newline + 1
        return i

    def _semicolon_end(self, stmt: Statement) -> int:
        text, i = self.text, stmt.end
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        return i + 1 if i < len(text) and text[i] == ";" else stmt.end

    def _body_start(self, region: Region) -> int:
        """Where a region's statements may begin: after the tool's directive lines."""
        i = region.start
        while True:
            match = _DIRECTIVE.match(self.text, i)
            if match is None:
                break
            i = match.end()
        return i

    # --- writing ----------------------------------------------------------------------

    def write(self, planned: dict[int, _Planned]) -> list[Output]:
        regions = {id(p.region): p.region for p in planned.values()}
        inline = all(not r.wrapped and self.tool not in lay.BATCH_TOOLS for r in regions.values())
        outputs: list[Output] = []
        if self.tool == "pop":
            lay.check_pop_dialect(self.path)
        if not planned:
            new_text = self.text
        elif inline:
            new_text = self._inline(planned)
        else:
            if self.tool not in lay.SPLITTING_TOOLS or len(regions) != 1:
                raise lay.LayoutError(
                    f"zdlint fix cannot yet split a {self.tool} migration into transactions"
                )
            new_text, extra = self._split(planned, next(iter(regions.values())))
            outputs.extend(extra)
        contract = [s for p in planned.values() for s in p.plan.contract]
        if contract:
            notes = [p.plan.contract_note for p in planned.values() if p.plan.contract_note]
            outputs.extend(self._contract(contract, notes, inline))
        main = Output(self.path, self._ensure_timeouts(new_text, self.path, alone=False), self.text)
        if self.tool == "atlas":
            self.notes.append(
                f"{self.path.parent.as_posix()}: run `atlas migrate hash` after writing the fix "
                "(atlas.sum lists every migration file's hash)"
            )
        outputs = [main, *outputs]
        return [o if o.original is not None else self._finish_new(o) for o in outputs]

    def _inline(self, planned: dict[int, _Planned]) -> str:
        pieces, position = [], 0
        absorbed = _absorbed(planned)
        for stmt in self.statements:
            entry = planned.get(stmt.index)
            if stmt.index in absorbed:
                pieces.append(self.text[position : stmt.start])
                position = self._statement_end(stmt)
                continue
            if entry is None:
                continue
            pieces.append(self.text[position : stmt.start])
            pieces.append(lay.inline_steps(entry.plan.expand, entry.explicit))
            # a statement moved whole to the contract phase leaves no empty line behind
            position = (self._semicolon_end if entry.plan.expand else self._statement_end)(stmt)
        pieces.append(self.text[position:])
        # Steps moved out of the user's BEGIN … COMMIT may leave it empty: a no-op, dropped.
        return _EMPTY_TRANSACTION.sub("", "".join(pieces))

    def _units(
        self, planned: dict[int, _Planned], region: Region
    ) -> tuple[list[lay.Unit], int, int]:
        units: list[lay.Unit] = []
        body = self._body_start(region)
        first = last = None
        absorbed = _absorbed(planned)
        for stmt in self.statements:
            if not (region.start <= stmt.start < region.end):
                continue
            if stmt.index in absorbed:
                first = max(stmt.comment_start, body) if first is None else first
                last = self._statement_end(stmt)
                continue
            start = max(stmt.comment_start, body)
            end = self._statement_end(stmt)
            first = start if first is None else first
            last = end
            leading = self.text[start : stmt.start]
            entry = planned.get(stmt.index)
            if entry is None:
                chunk = self.text[start:end].rstrip("\n")
                units.append(lay.Unit(chunk, lay.KEEP, setting=_is_timeout_setting(stmt)))
                continue
            steps = lay.step_units(entry.plan.expand)
            if steps:
                steps[0].text = leading + steps[0].text
            units.extend(steps)
        assert first is not None and last is not None
        return units, first, last

    def _split(self, planned: dict[int, _Planned], region: Region) -> tuple[str, list[Output]]:
        units, first, last = self._units(planned, region)
        segs = lay.segments(units, self.tool, region.wrapped)
        head, tail = self.text[:first], self.text[last:]
        extra: list[Output] = []
        if (
            len(segs) > 1
            and not segs[0].has_work
            and not segs[1].transactional
            and not segs[1].alone
            and self.tool in ("goose", "atlas", "flyway", "sql-migrate")
        ):
            head, marker_outputs = self._switch_to_no_transaction(head)
            extra.extend(marker_outputs)
            segs[1].units[:0] = segs[0].units
            segs = segs[1:]
        elif len(segs) > 1 and not segs[0].units and segs[1].alone and self._can_run_alone():
            # nothing else is left in the file: its first lone statement runs there, outside
            # any transaction (by the tool's own rule, or by the marker just written)
            head, marker_outputs = self._run_alone_here(head)
            extra.extend(marker_outputs)
            segs = segs[1:]
        main = head + "\n".join(u.text for u in segs[0].units) + "\n" + tail.lstrip("\n")
        if tail.strip():
            main = head + "\n".join(u.text for u in segs[0].units) + "\n\n" + tail.lstrip("\n")
        settings = [u for u in segs[0].units if u.setting]
        targets = lay.new_locations(self.path, self.tool, len(segs) - 1, "zdlint_fix")
        for k, segment in enumerate(segs[1:], start=1):
            if not segment.alone:
                carried = [
                    lay.Unit(u.text, lay.KEEP, True)
                    for u in settings
                    if u.text not in {x.text for x in segment.units}
                ]
                segment.units[:0] = carried
            settings += [u for u in segment.units if u.setting and u not in settings]
            target = lay.segment_path(targets[k - 1], self.tool, segment)
            header = f"{HEADER}: step {k + 1} of {self._migration_name}, run right after it.\n\n"
            extra.extend(self._files(target, segment, header))
        return main, extra

    def _can_run_alone(self) -> bool:
        """A file of this tool holding one statement can be made to run it outside a
        transaction: golang-migrate never wraps a file and Prisma runs a one-statement
        file as it is; Diesel, sqlx and dbmate take a marker."""
        return self.tool in ("golang-migrate", "prisma", "diesel", "sqlx", "dbmate")

    def _run_alone_here(self, head: str) -> tuple[str, list[Output]]:
        """The marker that makes this file run its statement outside a transaction."""
        if self.tool == "sqlx":
            return "-- no-transaction\n" + head, []
        if self.tool == "dbmate":
            return re.sub(
                r"(--\s*migrate:up)(?![^\n]*transaction:false)",
                r"\1 transaction:false",
                head,
                count=1,
            ), []
        if self.tool == "diesel":
            meta = self.path.with_name("metadata.toml")
            existing = meta.read_text(encoding="utf-8") if meta.exists() else None
            kept = re.sub(r"(?m)^\s*run_in_transaction\s*=.*\n?", "", existing or "")
            return head, [Output(meta, kept + "run_in_transaction = false\n", existing)]
        return head, []

    def _switch_to_no_transaction(self, head: str) -> tuple[str, list[Output]]:
        if self.tool == "goose":
            return "-- +goose NO TRANSACTION\n" + head, []
        if self.tool == "atlas":
            return "-- atlas:txmode none\n\n" + head, []
        if self.tool == "sql-migrate":
            return re.sub(
                r"(--\s*\+migrate\s+Up)", r"\1 notransaction", head, count=1, flags=re.I
            ), []
        conf = self.path.with_name(self.path.name + ".conf")
        existing = conf.read_text(encoding="utf-8") if conf.exists() else None
        content = (existing or "") + ("\n" if existing and not existing.endswith("\n") else "")
        return head, [Output(conf, content + "executeInTransaction=false\n", existing)]

    def _files(self, target: Path, segment: lay.Segment, header: str) -> list[Output]:
        rendered = lay.render_new_file(self.tool, segment, header)
        outputs = []
        for suffix, content in rendered.items():
            if suffix == "":
                where = target
            elif suffix.startswith("."):
                where = target.with_name(target.name + suffix)
            else:
                where = target.parent / suffix
            if suffix == "":
                content = self._ensure_timeouts(content, where, alone=segment.alone)
            outputs.append(Output(where, content, None))
        return outputs

    def _contract(self, steps: list[Step], notes: list[str], inline: bool) -> list[Output]:
        folder = self.path.parent
        if self.tool in ("prisma", "diesel"):
            folder = folder.parent
        pending = folder / self.options.contract_dir
        suffix = lay.migration_suffix(self.path.name) or ".sql"  # `.up.sql`, pop's dialect…
        base = (
            self.path.parent.name
            if self.tool in ("prisma", "diesel")
            else self.path.name[: len(self.path.name) - len(suffix)]
        )
        header = (
            f"-- Written by zdlint fix: the contract phase of {self._migration_name}.\n"
            + "".join(f"-- {note}\n" for note in dict.fromkeys(notes))
            + "-- Then move it into the migrations folder as the newest migration.\n\n"
        )
        if inline:
            text = header + lay.inline_steps(tuple(steps), False) + "\n"
            target = pending / f"{base}_contract.sql"
            return [Output(target, self._ensure_timeouts(text, target, alone=False), None)]
        units = lay.step_units(steps, first_joins=True)
        outputs: list[Output] = []
        for k, segment in enumerate(lay.segments(units, self.tool, True)):
            if not segment.units:
                continue
            name = f"{base}_contract" + (f"_{k + 1}" if k else "")
            if self.tool in ("prisma", "diesel"):
                target = pending / name / self.path.name
            else:
                target = lay.segment_path(pending / (name + suffix), self.tool, segment)
            outputs.extend(self._files(target, segment, header))
        return outputs

    # --- timeouts and expected findings -------------------------------------------------

    def _relint(self, text: str, path: Path) -> list[Finding]:
        from zdlint.lint import lint_bytes

        report = lint_bytes(
            str(path),
            Target(str(path), path, SQL),
            text.encode("utf-8"),
            self.settings,
            self.catalogue,
        )
        return list(report.findings)

    def _ensure_timeouts(self, text: str, path: Path, alone: bool) -> str:
        """SET lock_timeout / statement_timeout where the file needs them and lacks them."""
        wanted = [c for c in TIMEOUT_RULES if c in self.enabled]
        if not wanted:
            return text
        codes = {f.code for f in self._relint(text, path)} & set(wanted)
        if not codes:
            return text
        from zdlint.sql.tools import detect_tool

        layout = detect_tool(path, text, self.settings.tool_for(path))
        region = next((r for r in layout.regions if r.deploy), layout.regions[0])
        statements = [s for s in _parse(text) if region.start <= s.start < region.end]
        start = self._body_start_in(text, region)
        if statements:
            start = min(max(start, statements[0].comment_start), statements[0].start)
            if text.startswith(HEADER, statements[0].comment_start):
                start = max(start, self._body_start_in(text, region))
        if alone:
            lines = "".join(
                f"-- zdlint: ignore[{code}] this statement must be alone in its migration: set "
                f"{TIMEOUT_RULES[code]} for the migration's connection instead\n"
                for code in sorted(codes)
            )
            start = statements[0].start if statements else start
        else:
            values = {
                LOCK_TIMEOUT: self.options.lock_timeout,
                STATEMENT_TIMEOUT: self.options.statement_timeout,
            }
            lines = "".join(
                f"SET {TIMEOUT_RULES[code]} = '{values[code]}';\n" for code in sorted(codes)
            )
        return text[:start] + lines + text[start:]

    def _body_start_in(self, text: str, region: Region) -> int:
        i = region.start
        while (match := _DIRECTIVE.match(text, i)) is not None:
            i = match.end()
        while i < len(text) and text[i] == "\n":
            i += 1
        if text.startswith(HEADER, i):  # our own header stays first
            blank = text.find("\n\n", i)
            i = len(text) if blank == -1 else blank + 2
        return i

    def _finish_new(self, output: Output) -> Output:
        """Suppress the findings zdlint expects on the steps it wrote itself."""
        if not output.path.name.endswith(".sql"):
            return output
        findings = [
            f for f in self._relint(output.text, output.path) if f.code in GENERATED_SUPPRESSIONS
        ]
        if not findings:
            return output
        lines = output.text.split("\n")
        for finding in sorted(findings, key=lambda f: -f.span.line):
            at = finding.span.line - 1
            indent = ""
            lines.insert(
                at,
                f"{indent}-- zdlint: ignore[{finding.code}] {GENERATED_SUPPRESSIONS[finding.code]}",
            )
        return Output(output.path, "\n".join(lines), output.original)


def _splits_the_users_transaction(plan: Plan, explicit: bool, region: Region) -> bool:
    """The statement is inside the user's BEGIN … COMMIT in a batch tool's file and some
    step must run outside that transaction: cut into migrations, the first would end
    inside the transaction and a later one would COMMIT."""
    leaves = any(not s.in_transaction or s.new_transaction for s in plan.expand)
    return explicit and region.batch and leaves


def _absorbed(planned: dict[int, _Planned]) -> set[int]:
    """Statements whose work a plan took over: removed from where they stood."""
    return {index for p in planned.values() for index in p.plan.absorbs}


def _parse(text: str) -> list[Statement]:
    from zdlint.source import SourceText
    from zdlint.sql.parse import parse_statements

    return parse_statements(SourceText(text))


def _is_timeout_setting(stmt: Statement) -> bool:
    node = stmt.node
    return (
        isinstance(node, ast.VariableSetStmt)
        and not node.is_local
        and (node.name or "").lower() in ("lock_timeout", "statement_timeout")
    )
