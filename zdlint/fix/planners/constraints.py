"""Constraints added without a long lock: CHECK and FOREIGN KEY as NOT VALID then
VALIDATE in a separate transaction (ZD104, ZD105); UNIQUE and PRIMARY KEY on an index
built CONCURRENTLY (ZD106)."""

from __future__ import annotations

import copy
from dataclasses import dataclass

from pglast import ast
from pglast.enums import AlterTableType, ConstrType

from zdlint.findings import Hit
from zdlint.fix.plan import FixOptions, Plan, Step, Unfixable
from zdlint.fix.planners._common import (
    add_foreign_key_sql,
    foreign_key_name,
    relation_sql,
    single_command,
    single_new_column,
)
from zdlint.fix.planners.not_null import not_null_steps
from zdlint.fix.render import render
from zdlint.fix.sql_text import find_keyword, quote_ident, tokens
from zdlint.sql.default_names import constraint_name
from zdlint.sql.locking import command_foreign_keys
from zdlint.sql.names import derived_name, relation_name, strings, walk
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState
from zdlint.sql.statement_sql import deparse
from zdlint.versions import NOT_VALID_FOREIGN_KEY_ON_PARTITIONED_TABLE


def _named(stmt_text: str, name: str) -> str | None:
    """The statement with `CONSTRAINT name` written in after ADD."""
    add = find_keyword(stmt_text, "ADD_P")
    if add is None:
        return None
    return f"{stmt_text[: add.end]} CONSTRAINT {quote_ident(name)}{stmt_text[add.end :]}"


def _split_column_constraint(
    stmt: Statement, rule: str
) -> tuple[ast.AlterTableStmt, ast.ColumnDef, ast.Constraint, str, str] | Unfixable:
    """For `ALTER TABLE t ADD COLUMN c … CHECK (…)` (or UNIQUE, PRIMARY KEY): the table,
    the column, the constraint, the statement without the constraint, and the constraint's
    text from its kind on (`CHECK (…)`, without `CONSTRAINT name`)."""
    found = single_new_column(stmt, rule)
    if isinstance(found, Unfixable):
        return found
    node, column, constraints = found
    con = next(c for c in constraints if c.contype in _COLUMN_KINDS[rule])
    if con.deferrable or any(c.contype in _ATTRIBUTES for c in constraints):
        return Unfixable(rule, "a DEFERRABLE or INITIALLY clause on the column is not rewritten")
    # The constraint's text runs to the next one written on the column (or its COLLATE).
    at = con.location or 0
    after = [c.location or 0 for c in constraints]
    if column.collClause is not None:
        after.append(column.collClause.location or 0)
    shift = stmt.base - stmt.start  # node locations → offsets into the statement text
    text = stmt.text.rstrip()
    start = shift + at
    end = min([shift + a for a in after if a > at] + [len(text)])
    written = text[start:end].rstrip()
    words = tokens(written)
    if words and words[0].name == "CONSTRAINT":
        written = written[words[2].start :] if len(words) > 2 else ""
    rest = text[end:].strip()
    without = text[:start].rstrip() + (" " + rest if rest else "")
    return node, column, con, without, written


def not_valid_then_validate(
    stmt: Statement, state: MigrationState, hit: Hit, options: FixOptions, rule: str
) -> Plan | Unfixable:
    found = single_command(stmt, rule)
    if isinstance(found, Unfixable):
        return found
    node, cmd = found
    if isinstance(cmd.def_, ast.ColumnDef):
        return _column_check(stmt, rule)
    con = cmd.def_
    assert isinstance(con, ast.Constraint)
    text = stmt.text.rstrip()
    name = con.conname
    if not name:
        name = constraint_name(relation_name(node.relation), con)
        named = _named(text, name)
        if named is None:
            return Unfixable(rule, "could not find ADD in the statement")
        text = named
    return Plan(rule, _not_valid_then_validate(rule, text, relation_sql(node.relation), name))


def _not_valid_then_validate(rule: str, add: str, table: str, name: str) -> tuple[Step, Step]:
    """The constraint that `add` adds, added NOT VALID, then validated in a separate
    transaction."""
    return (
        Step(render(rule, "add_not_valid", statement=add), True, rule=rule),
        Step(
            render(rule, "validate", table=table, constraint=quote_ident(name)),
            True,
            rule=rule,
            new_transaction=True,
        ),
    )


def _column_check(stmt: Statement, rule: str) -> Plan | Unfixable:
    """ADD COLUMN c … CHECK (…): the column first, then the CHECK NOT VALID, validated in a
    separate transaction."""
    split = _split_column_constraint(stmt, rule)
    if isinstance(split, Unfixable):
        return split
    node, column, con, without, written = split
    table = relation_sql(node.relation)
    name = con.conname or constraint_name(relation_name(node.relation), con, column.colname or "")
    add = f"ALTER TABLE {table} ADD CONSTRAINT {quote_ident(name)} {written}"
    return Plan(
        rule,
        (
            Step(render(rule, "add_column", statement=without), True, rule=rule),
            *_not_valid_then_validate(rule, add, table, name),
        ),
    )


def check_constraint(
    stmt: Statement, state: MigrationState, hit: Hit, options: FixOptions
) -> Plan | Unfixable:
    return not_valid_then_validate(stmt, state, hit, options, "ZD104")


def foreign_key(
    stmt: Statement, state: MigrationState, hit: Hit, options: FixOptions
) -> Plan | Unfixable:
    rule = "ZD105"
    gate = NOT_VALID_FOREIGN_KEY_ON_PARTITIONED_TABLE
    assert isinstance(stmt.node, ast.AlterTableStmt)
    if state.pg_version < gate.since and state.is_partitioned(relation_name(stmt.node.relation)):
        return Unfixable(rule, f"{gate.name} needs PostgreSQL {gate.since}: {gate.instead}")
    found = single_command(stmt, rule)
    if isinstance(found, Unfixable) or isinstance(found[1].def_, ast.Constraint):
        return not_valid_then_validate(stmt, state, hit, options, rule)
    return _inline_foreign_key(*found)


def _inline_foreign_key(node: ast.AlterTableStmt, cmd: ast.AlterTableCmd) -> Plan | Unfixable:
    """`ADD COLUMN c … REFERENCES p`: the column first, then the key NOT VALID and VALIDATE."""
    rule = "ZD105"
    column = cmd.def_
    assert isinstance(column, ast.ColumnDef)
    keys = [c for c, _ in command_foreign_keys(cmd)]
    if len(keys) != 1:
        return Unfixable(rule, "the column has several REFERENCES; split them first")
    (key,) = keys
    plain = copy.deepcopy(node)
    plain_column = (plain.cmds or ())[0].def_
    assert isinstance(plain_column, ast.ColumnDef)
    plain_column.constraints = tuple(c for c in column.constraints or () if c is not key) or None
    table = relation_name(node.relation)
    name = foreign_key_name(table, key, column.colname or "")
    add_key = add_foreign_key_sql(node.relation, name, [column.colname or ""], key)
    return Plan(
        rule,
        (
            Step(deparse(plain), True, rule=rule),
            # the key waits for a lock on the referenced table: not while this table's
            # ACCESS EXCLUSIVE from the ADD COLUMN is held (ZD409)
            Step(
                render(rule, "add_not_valid", statement=add_key),
                True,
                rule=rule,
                new_transaction=True,
            ),
            Step(
                render(
                    rule,
                    "validate",
                    table=relation_sql(node.relation),
                    constraint=quote_ident(name),
                ),
                True,
                rule=rule,
                new_transaction=True,
            ),
        ),
    )


def unique_with_index(
    stmt: Statement, state: MigrationState, hit: Hit, options: FixOptions
) -> Plan | Unfixable:
    rule = "ZD106"
    swap = _primary_key_swap(stmt, state, rule)
    if isinstance(swap, Unfixable):
        return swap
    found = single_command(stmt, rule) if swap is None else swap.command
    if isinstance(found, Unfixable):
        return found
    node, cmd = found
    before: list[Step] = []
    con = cmd.def_
    if isinstance(con, ast.ColumnDef):
        split = _split_column_constraint(stmt, rule)
        if isinstance(split, Unfixable):
            return split
        node, new_column, inline, without, _ = split
        if inline.contype == ConstrType.CONSTR_PRIMARY:
            return Unfixable(rule, "a new column needs a value in every row to be the key")
        # The same constraint written on the table, over the new column.
        con = copy.copy(inline)
        con.keys = (ast.String(sval=new_column.colname),)
        before.append(Step(render(rule, "add_column", statement=without), True, rule=rule))
    assert isinstance(con, ast.Constraint)
    if con.including or con.options or con.indexspace or con.access_method:
        return Unfixable(rule, "INCLUDE, WITH (…) or USING INDEX TABLESPACE are not rewritten")
    table_name = relation_name(node.relation)
    name = constraint_name(table_name, con)
    table = relation_sql(node.relation)
    columns = strings(con.keys)
    schema = node.relation.schemaname if node.relation else None
    # a swapped key: the new index is built beside the old key's, under its own name
    index_name = name if swap is None else derived_name(name, "new")
    index = ".".join(quote_ident(n) for n in (schema, index_name) if n)
    primary = con.contype == ConstrType.CONSTR_PRIMARY
    steps = [
        *before,
        Step(render(rule, "drop_leftover", index=index), False, rule=rule),
        Step(
            render(
                rule,
                "create_index",
                index=quote_ident(index_name),
                table=table,
                columns=", ".join(quote_ident(c) for c in columns),
                nulls_not_distinct=bool(getattr(con, "nulls_not_distinct", False)),
            ),
            False,
            rule=rule,
        ),
    ]
    # PRIMARY KEY … USING INDEX sets NOT NULL on its columns, which scans the table
    # unless a validated CHECK (col IS NOT NULL) already proves it.
    nullable = [
        c
        for c in columns
        if primary
        and not ((known := state.schema.column(table_name, c)) is not None and known.not_null)
        and not state.has_validated_not_null_check(table_name, c)
    ]
    finish: list[Step] = []
    for column in nullable:
        prepared = not_null_steps(rule, table, table_name, column, state, set_not_null=False)
        if isinstance(prepared, Unfixable):
            return prepared
        steps.extend(prepared.before)
        finish.extend(prepared.after)
    deferrable = ""
    if con.deferrable:
        deferrable = " DEFERRABLE" + (" INITIALLY DEFERRED" if con.initdeferred else "")
    if swap is not None:  # the old key goes in the transaction that attaches the new one
        steps.append(
            Step(
                render(rule, "drop_constraint", table=table, constraint=quote_ident(swap.old)),
                True,
                rule=rule,
                new_transaction=True,
            )
        )
    steps.append(
        Step(
            render(
                rule,
                "add_using_index",
                table=table,
                constraint=quote_ident(name),
                kind="PRIMARY KEY" if primary else "UNIQUE",
                index=quote_ident(index_name),
                deferrable=deferrable,
            ),
            True,
            rule=rule,
        )
    )
    steps.extend(finish)
    absorbs = () if swap is None or swap.dropped_by is None else (swap.dropped_by,)
    return Plan(rule, tuple(steps), absorbs=absorbs)


@dataclass(frozen=True)
class _Swap:
    """ADD PRIMARY KEY replacing a key this migration drops."""

    old: str  # the dropped key's name
    command: tuple[ast.AlterTableStmt, ast.AlterTableCmd]  # the ADD
    dropped_by: int | None  # the earlier statement that drops it (None: this one does)


def _primary_key_swap(
    stmt: Statement, state: MigrationState, rule: str
) -> _Swap | Unfixable | None:
    """`DROP CONSTRAINT t_pkey, ADD PRIMARY KEY …` (or the DROP as an earlier statement):
    the old key must stay until the new index is built, or the table has no key (and
    duplicates can slip in) for the whole concurrent build."""
    node = stmt.node
    assert isinstance(node, ast.AlterTableStmt)
    adds = [
        c
        for c in node.cmds or ()
        if c.subtype == AlterTableType.AT_AddConstraint
        and isinstance(c.def_, ast.Constraint)
        and c.def_.contype == ConstrType.CONSTR_PRIMARY
    ]
    if len(adds) != 1:
        return None
    add = adds[0]
    table = relation_name(node.relation)
    assert isinstance(add.def_, ast.Constraint)
    names = {constraint_name(table, add.def_), f"{table}_pkey"}
    others = [c for c in node.cmds or () if c is not add]
    if others:
        if len(others) == 1 and _drops_constraint(others[0], names):
            return _Swap(others[0].name or "", (node, add), None)
        return None
    known = state.schema.tables.get(table)
    if known is not None and any(c.kind == "primary" for c in known.constraints.values()):
        return None
    earlier = [s for s in state.file_statements if s.index < stmt.index and s.node is not None]
    for position in range(len(earlier) - 1, -1, -1):
        candidate = earlier[position]
        drop = candidate.node
        if not (
            isinstance(drop, ast.AlterTableStmt)
            and relation_name(drop.relation) == table
            and len(drop.cmds or ()) == 1
            and _drops_constraint((drop.cmds or ())[0], names)
        ):
            continue
        between = earlier[position + 1 :]
        if any(_touches(s.node, table) for s in between):
            return Unfixable(
                rule,
                f"the primary key of {table} is dropped earlier in this migration and other "
                "statements use the table in between: move the DROP CONSTRAINT right before "
                "the ADD, so the old key stays while the new index is built",
            )
        return _Swap((drop.cmds or ())[0].name or "", (node, add), candidate.index)
    return None


def _drops_constraint(cmd: ast.AlterTableCmd, names: set[str]) -> bool:
    return cmd.subtype == AlterTableType.AT_DropConstraint and (cmd.name or "") in names


def _touches(node: ast.Node | None, table: str) -> bool:
    return any(isinstance(n, ast.RangeVar) and n.relname == table for n in walk(node))


_COLUMN_KINDS = {
    "ZD104": (ConstrType.CONSTR_CHECK,),
    "ZD106": (ConstrType.CONSTR_UNIQUE, ConstrType.CONSTR_PRIMARY),
}
_ATTRIBUTES = (
    ConstrType.CONSTR_ATTR_DEFERRABLE,
    ConstrType.CONSTR_ATTR_NOT_DEFERRABLE,
    ConstrType.CONSTR_ATTR_DEFERRED,
    ConstrType.CONSTR_ATTR_IMMEDIATE,
)

PLANNERS = {
    "ZD104": check_constraint,
    "ZD105": foreign_key,
    "ZD106": unique_with_index,
}
