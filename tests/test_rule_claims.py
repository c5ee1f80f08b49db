"""Every rule's claim, checked on a real server.

A rule that says "this takes ACCESS EXCLUSIVE and scans the table" must be right: its
bad examples are traced (set-up applied, tables seeded) and the strongest lock on a table
that existed before the example, the rewrites and the scans are compared with the claim.
Good examples must stay at or below the claim's `good_lock`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from zdlint.catalogue import Claim, Example, Rule, load_catalogue
from zdlint.locks import LOCK_MODES, lock_mode, queues_traffic
from zdlint.pg.server import PgServer
from zdlint.pg.trace import Trace, run_trace
from zdlint.sql.tools import file_runs_in_transaction

SEED_ROWS = 2_000


def _cases(kind: str) -> list[object]:
    cases = []
    for rule in load_catalogue():
        if rule.language != "sql":
            continue
        if kind == "rejected":
            if rule.claim.rejected:
                cases += [
                    pytest.param(rule, example, id=f"{rule.code}-bad{i}")
                    for i, example in enumerate(rule.bad_examples)
                ]
            continue
        if kind == "good" and rule.claim.good_lock is None and rule.claim.lock is None:
            continue
        examples = rule.bad_examples if kind == "bad" else rule.good_examples
        for i, example in enumerate(examples):
            if kind == "bad" and _claim(rule, example).lock is None:
                continue
            cases.append(pytest.param(rule, example, id=f"{rule.code}-{kind}{i}"))
    return cases


def _claim(rule: Rule, example: Example) -> Claim:
    """What a bad example claims: its own claim, else its rule's."""
    return example.claim or rule.claim


def _trace(rule: Rule, example: Example, server: PgServer) -> Trace:
    major = server.version // 10000
    if example.pg_version is not None and example.pg_version > major:
        pytest.skip(f"the example needs PostgreSQL {example.pg_version}; the server is {major}")
    if not rule.applies_to(major):
        pytest.skip(f"{rule.code} does not apply to PostgreSQL {major}")
    path = Path(example.path) if example.path else None
    wrapped = file_runs_in_transaction(path, example.source)
    for seed_rows in (SEED_ROWS, 0):
        result = run_trace(
            server,  # a fresh scratch database for every run
            [("setup", example.setup)] if example.setup else [],
            example.source,
            in_transaction=wrapped,
            seed_rows=seed_rows,
            name=f"{rule.code} {example.kind} example",
        )
        # Some examples only fail on a table with rows: a bad ADD COLUMN … NOT NULL without
        # a default (that failure is what the rule warns about), or a good example whose
        # CHECK the generated values do not meet. Their locks are measured on empty
        # tables instead.
        if result.failed is None:
            break
    assert result.failed is None, (
        f"{rule.code} {example.kind} example failed at line {result.failed.line}: "
        f"{result.failed.error}"
    )
    return result


def _locks_on_existing_tables(result: Trace) -> dict[str, str]:
    """The strongest lock taken on each table that existed before the example ran."""
    strongest: dict[str, str] = {}
    for statement in result.statements:
        for taken in statement.locks:
            if taken.relation not in result.existing:
                continue
            held = strongest.get(taken.relation)
            if held is None or lock_mode(held).strength < taken.lock.strength:
                strongest[taken.relation] = taken.mode
    return strongest


def _touched(result: Trace, attribute: str) -> set[str]:
    return {
        relation
        for statement in result.statements
        for relation in getattr(statement, attribute)
        if relation in result.existing
    }


@pytest.mark.parametrize(("rule", "example"), _cases("bad"))
def test_bad_example_takes_the_claimed_lock_rewrite_and_scan(
    rule: Rule, example: Example, pg_server: PgServer
) -> None:
    claim = _claim(rule, example)
    result = _trace(rule, example, pg_server)
    locks = _locks_on_existing_tables(result)
    if claim.on is not None:
        measured = locks.get(claim.on)
    else:
        measured = max(locks.values(), key=lambda m: lock_mode(m).strength, default=None)
    on = f" on {claim.on}" if claim.on else ""
    assert measured == claim.lock, (
        f"{rule.code} claims {claim.lock}{on}; measured {measured} (locks: {locks})"
    )
    rewrites, scans = _touched(result, "rewrites"), _touched(result, "scans")
    assert bool(rewrites) == claim.rewrite, (
        f"{rule.code} claims rewrite={claim.rewrite}; measured rewrites of {rewrites or 'none'}"
    )
    assert bool(scans) == claim.scan, (
        f"{rule.code} claims scan={claim.scan}; measured scans of {scans or 'none'}"
    )


@pytest.mark.parametrize(("rule", "example"), _cases("good"))
def test_good_example_stays_at_or_below_the_claimed_good_lock(
    rule: Rule, example: Example, pg_server: PgServer
) -> None:
    result = _trace(rule, example, pg_server)
    # A good example may take at most its entry's good_lock; without one, no more than
    # the bad example's lock (the safe pattern is never worse than the hazard).
    bound = lock_mode(rule.claim.good_lock or rule.claim.lock or "")
    too_strong = {
        table: mode
        for table, mode in _locks_on_existing_tables(result).items()
        if lock_mode(mode).strength > bound.strength
    }
    assert not too_strong, f"{rule.code} allows good examples {bound.name}; measured {too_strong}"


@pytest.mark.parametrize(("rule", "example"), _cases("rejected"))
def test_bad_example_that_the_rule_says_postgres_rejects_does_fail(
    rule: Rule, example: Example, pg_server: PgServer
) -> None:
    major = pg_server.version // 10000
    if not rule.applies_to(major):
        pytest.skip(f"{rule.code} does not apply to PostgreSQL {major}")
    if example.pg_version is not None and example.pg_version != major:
        pytest.skip(f"the example is for PostgreSQL {example.pg_version}, the server is {major}")
    path = Path(example.path) if example.path else None
    result = run_trace(
        pg_server,
        [("setup", example.setup)] if example.setup else [],
        example.source,
        in_transaction=file_runs_in_transaction(path, example.source),
        seed_rows=SEED_ROWS,
        name=f"{rule.code} bad example",
    )
    assert result.failed is not None, f"{rule.code} says PostgreSQL rejects it, but it ran"


def test_every_sql_rule_with_a_bad_example_has_its_claim_checked_here():
    """A rule's claim is a lock (traced), a rejection (run), or explicitly nothing to
    measure on a table: those are listed here with the reason."""
    nothing_to_measure = {
        "ZD001": "a syntax error never reaches the server",
        "ZD002": "a comment",
        "ZD003": "an encoding problem never reaches the server",
        "ZD112": "the lock is on a materialized view, not a table",
        "ZD306": "the break is in the running application, not a table lock",
        "ZD307": "the break is in the running application, not a table lock",
        "ZD308": "what CASCADE drops depends on the dependants, not one table",
        "ZD310": "the break is in the running application's INSERTs, not a lock",
        "ZD312": "the break is in the running application's writes, not a lock "
        "(tests/test_type_change_writers.py shows them fail on a real server)",
        "ZD311": "a whole database, not a table lock (tests/test_lock_model_pg.py shows the "
        "refusal while a session is connected)",
        "ZD150": "advisory: the cost is on later DELETEs of the referenced table",
        "ZD404": "SET takes no lock; the risk is how long a later lock may wait",
        "ZD410": "the risk is the missing timeout, not a lock",
        "ZD411": "the transaction is rolled back when the session ends, not held",
        "ZD412": "the ROLLBACK undoes the migration; the harm is in the tool's history",
        "ZD413": "the COMMIT ends the tool's transaction early; it takes no lock",
        "ZD504": "SET session_replication_role takes no lock",
        "ZD505": "advisory: a column type choice",
        "ZD506": "advisory: a column type choice",
        "ZD507": "the loss is of rows written concurrently, not a lock",
    }
    unchecked = {
        rule.code
        for rule in load_catalogue()
        if rule.language == "sql"
        and rule.bad_examples
        and rule.claim.lock is None
        and not rule.claim.rejected
    }
    assert unchecked == set(nothing_to_measure)


def test_every_mode_the_lock_timeout_message_names_is_measured_by_an_example():
    """ZD401 names the mode of any request that holds up reads or writes while it waits;
    each of those modes is taken by one of its bad examples, traced above."""
    rule = load_catalogue().get("ZD401")
    assert rule is not None
    shown = {_claim(rule, example).lock for example in rule.bad_examples}
    assert shown == {mode for mode in LOCK_MODES if queues_traffic(mode)}
