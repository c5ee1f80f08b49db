"""Constraints added without a long lock: CHECK and FOREIGN KEY as NOT VALID then
VALIDATE in a separate transaction (ZD104, ZD105); UNIQUE and PRIMARY KEY on an index
built CONCURRENTLY (ZD106)."""

from __future__ import annotations

import copy

from pglast import ast
from pglast.enums import ConstrType

from zdlint.findings import Hit
from zdlint.fix.plan import FixOptions, Plan, Step, Unfixable
from zdlint.fix.planners._common import (
    add_foreign_key_sql,
    deparse,
    foreign_key_name,
    relation_sql,
    single_command,
)
from zdlint.fix.planners.not_null import not_null_steps
from zdlint.fix.render import render
from zdlint.fix.sql_text import derived_name, find_keyword, quote_ident
from zdlint.sql.locking import command_foreign_keys
from zdlint.sql.names import relation_name, strings, walk
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState


def _default_name(table: str, con: ast.Constraint) -> str:
    """The name PostgreSQL would give the unnamed constraint."""
    if con.contype == ConstrType.CONSTR_FOREIGN:
        return foreign_key_name(table, con)
    if con.contype == ConstrType.CONSTR_PRIMARY:
        return derived_name(table, "pkey")
    if con.contype == ConstrType.CONSTR_UNIQUE:
        return derived_name(table, *strings(con.keys), "key")
    columns = [strings(n.fields)[-1] for n in walk(con.raw_expr) if isinstance(n, ast.ColumnRef)]
    return derived_name(table, columns[0] if columns else "", "check")


def _named(stmt_text: str, name: str) -> str | None:
    """The statement with `CONSTRAINT name` written in after ADD."""
    add = find_keyword(stmt_text, "ADD_P")
    if add is None:
        return None
    return f"{stmt_text[: add.end]} CONSTRAINT {quote_ident(name)}{stmt_text[add.end :]}"


def not_valid_then_validate(
    stmt: Statement, state: MigrationState, hit: Hit, options: FixOptions, rule: str
) -> Plan | Unfixable:
    found = single_command(stmt, rule)
    if isinstance(found, Unfixable):
        return found
    node, cmd = found
    con = cmd.def_
    assert isinstance(con, ast.Constraint)
    text = stmt.text.rstrip()
    name = con.conname
    if not name:
        name = _default_name(relation_name(node.relation), con)
        named = _named(text, name)
        if named is None:
            return Unfixable(rule, "could not find ADD in the statement")
        text = named
    table = relation_sql(node.relation)
    return Plan(
        rule,
        (
            Step(render(rule, "add_not_valid", statement=text), True, rule=rule),
            Step(
                render(rule, "validate", table=table, constraint=quote_ident(name)),
                True,
                rule=rule,
                new_transaction=True,
            ),
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
            Step(render(rule, "add_not_valid", statement=add_key), True, rule=rule),
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
    found = single_command(stmt, rule)
    if isinstance(found, Unfixable):
        return found
    node, cmd = found
    con = cmd.def_
    assert isinstance(con, ast.Constraint)
    if con.including or con.options or con.indexspace or con.access_method:
        return Unfixable(rule, "INCLUDE, WITH (…) or USING INDEX TABLESPACE are not rewritten")
    table_name = relation_name(node.relation)
    name = con.conname or _default_name(table_name, con)
    table = relation_sql(node.relation)
    columns = strings(con.keys)
    schema = node.relation.schemaname if node.relation else None
    index = ".".join(quote_ident(n) for n in (schema, name) if n)
    primary = con.contype == ConstrType.CONSTR_PRIMARY
    steps = [
        Step(render(rule, "drop_leftover", index=index), False, rule=rule),
        Step(
            render(
                rule,
                "create_index",
                index=quote_ident(name),
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
    steps.append(
        Step(
            render(
                rule,
                "add_using_index",
                table=table,
                constraint=quote_ident(name),
                kind="PRIMARY KEY" if primary else "UNIQUE",
                index=quote_ident(name),
                deferrable=deferrable,
            ),
            True,
            rule=rule,
        )
    )
    steps.extend(finish)
    return Plan(rule, tuple(steps))


PLANNERS = {
    "ZD104": check_constraint,
    "ZD105": foreign_key,
    "ZD106": unique_with_index,
}
