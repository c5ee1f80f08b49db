"""What a planner returns: ordered steps, each with its transaction mode and phase."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Phase = Literal["expand", "contract"]
EXPAND: Phase = "expand"
CONTRACT: Phase = "contract"


@dataclass(frozen=True)
class Step:
    """One SQL statement of a plan (text without the final `;`)."""

    sql: str
    in_transaction: bool = True
    phase: Phase = EXPAND
    rule: str = ""
    # Must not share a transaction with the step before it (e.g. VALIDATE after the
    # NOT VALID add, or a data change after DDL).
    new_transaction: bool = False


@dataclass(frozen=True)
class Plan:
    """The steps that replace one statement."""

    rule: str
    steps: tuple[Step, ...]
    # The steps add a column at the end where the original changed one in place, so the
    # resulting column order differs (and only that).
    reorders_columns: bool = False
    # DETACH … CONCURRENTLY leaves a CHECK that mirrors the partition bound on the
    # detached table (useful: it lets a later ATTACH skip its scan).
    keeps_bound_check: bool = False
    # Indexes the steps build that the original did not (an unindexed foreign key's).
    adds_indexes: tuple[str, ...] = ()
    # A sentence for the contract file's header: when the contract may ship.
    contract_note: str = ""
    # Earlier statements of the file (Statement.index) whose work the steps take over:
    # they are removed from where they stood (the old primary key dropped only once
    # its replacement is built).
    absorbs: tuple[int, ...] = ()
    # Other rules whose findings on the same statement these steps remove as well: the
    # statement gets this plan rather than theirs.
    covers: tuple[str, ...] = ()

    @property
    def expand(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.phase == EXPAND)

    @property
    def contract(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.phase == CONTRACT)


@dataclass(frozen=True)
class Unfixable:
    """Why a fixable rule's finding cannot be rewritten here (shown to the user)."""

    rule: str
    reason: str


@dataclass(frozen=True)
class FixOptions:
    """The choices `zdlint fix` makes that the user can change."""

    batch_size: int = 1000
    backfill_expr: str | None = None
    lock_timeout: str = "3s"
    statement_timeout: str = "30min"
    contract_dir: str = "pending"
