"""Changes the running version cannot survive, as expand now + contract later:
ALTER COLUMN TYPE that rewrites (ZD202) and RENAME COLUMN (ZD302).

Expand adds the new column, a trigger that keeps it in step with the old one, a batched
backfill, its NOT NULL and unique indexes. Contract (a separate file, shipped once no
running version uses the old column) drops the trigger and the old column and gives the
new one the old one's place: its name, primary key or unique constraints.
"""

from __future__ import annotations

import copy

from pglast import ast

from zdlint.findings import Hit
from zdlint.fix.plan import CONTRACT, EXPAND, FixOptions, Plan, Step, Unfixable
from zdlint.fix.planners._common import primary_key, relation_sql, single_command
from zdlint.fix.planners.backfill import batched_steps
from zdlint.fix.planners.not_null import not_null_steps
from zdlint.fix.render import render
from zdlint.fix.sql_text import quote_ident
from zdlint.sql.names import derived_name, function_names, relation_name, walk
from zdlint.sql.parse import Statement
from zdlint.sql.schema import Column, SchemaModel
from zdlint.sql.state import MigrationState
from zdlint.sql.statement_sql import deparse

TEMPLATE = "ZD202"


def _unknown(rule: str, table: str, column: str) -> Unfixable:
    return Unfixable(
        rule,
        f"zdlint does not know {table}.{column} (its type, default and indexes); keep the "
        "earlier migrations beside this file or pass --schema",
    )


def _key_constraints(model: SchemaModel, table: str, column: str) -> list[tuple[str, str]] | None:
    """(constraint, PRIMARY KEY | UNIQUE) on exactly this column; None when the column
    has other indexes or constraints that the rewrite would have to rebuild by hand."""
    found = model.tables[table]
    keys: list[tuple[str, str]] = []
    for constraint in found.constraints.values():
        if column not in constraint.columns and constraint.not_null_column != column:
            continue
        if constraint.kind in ("primary", "unique") and constraint.columns == (column,):
            keys.append(
                (constraint.name, "PRIMARY KEY" if constraint.kind == "primary" else "UNIQUE")
            )
        else:
            return None
    backing = {name for name, _ in keys}
    for index in model.indexes_on(table):
        if column in index.columns and index.name not in backing:
            return None
    return keys


def _trigger_expression(using: ast.Node | None, old: str, new_type: ast.TypeName | None) -> str:
    """The new column's value computed from NEW (the row being written)."""
    if using is None:
        cast = ast.TypeCast(
            arg=ast.ColumnRef(fields=(ast.String(sval="new"), ast.String(sval=old))),
            typeName=new_type,
        )
        return deparse(cast)
    expression = copy.deepcopy(using)
    for node in walk(expression):
        if isinstance(node, ast.ColumnRef) and len(node.fields or ()) == 1:
            node.fields = (ast.String(sval="new"), *(node.fields or ()))
    return deparse(expression)


def _expand_contract(
    rule: str,
    stmt: Statement,
    state: MigrationState,
    options: FixOptions,
    *,
    old: str,
    new: str,
    new_type: str,
    sync_expression: str,  # value of `new` computed from NEW
    backfill_expression: str,  # value of `new` computed from the row
    both_ways: bool,  # rename: writes to either column reach the other
    rename_to: str | None,  # the contract renames `new` to this
) -> Plan | Unfixable:
    node = stmt.node
    relation = node.relation  # type: ignore[union-attr]
    table, name = relation_sql(relation), relation_name(relation)
    column: Column | None = state.schema.column(name, old)
    if column is None:
        return _unknown(rule, name, old)
    keys = _key_constraints(state.schema, name, old)
    if keys is None:
        return Unfixable(
            rule, f"{name}.{old} has indexes or constraints that would need rebuilding by hand"
        )
    if column.default is not None and "nextval" in function_names(column.default):
        return Unfixable(
            rule, f"{name}.{old} takes its values from a sequence it owns; change it by hand"
        )
    function = derived_name("zdlint_sync", name, old)
    ctx = dict(
        table=table,
        table_name=name,
        old=quote_ident(old),
        new=quote_ident(new),
        new_type=new_type,
        function=quote_ident(function),
        trigger=quote_ident(function),
        sync_expression=sync_expression,
        both_ways=both_ways,
        default=deparse(column.default) if column.default is not None else None,
        rename_to=quote_ident(rename_to) if rename_to else None,
    )
    expand = [
        Step(render(TEMPLATE, "add_column", **ctx), True, EXPAND, rule),
        Step(render(TEMPLATE, "sync_function", **ctx), True, EXPAND, rule),
        Step(render(TEMPLATE, "sync_trigger", **ctx), True, EXPAND, rule),
    ]
    if column.default is not None:
        expand.append(Step(render(TEMPLATE, "set_default", **ctx), True, EXPAND, rule))
    key = primary_key(state, name)
    # without a key, ctid batches repeat until every row holds the value it would get
    guard = f"{quote_ident(new)} IS DISTINCT FROM {backfill_expression}"
    expand += batched_steps(
        rule=rule,
        kind="update",
        relation=table,
        qualifier=table,
        table_sql=table,
        key=key,
        set_clause=f"{quote_ident(new)} = {backfill_expression}",
        where=None if key else guard,
        batch_size=options.batch_size,
        name_hint=f"{name}_{new}",
    )
    if column.not_null:
        proof = not_null_steps(rule, table, name, new, state)
        if isinstance(proof, Unfixable):
            return proof
        expand += [*proof.before, *proof.after]
    contract_keys = []
    for constraint, kind in keys:
        index = derived_name(constraint, "new")
        schema = relation.schemaname
        qualified = ".".join(quote_ident(n) for n in (schema, index) if n)
        expand.append(
            Step(render(TEMPLATE, "drop_leftover_index", index=qualified), False, EXPAND, rule)
        )
        expand.append(
            Step(
                render(TEMPLATE, "unique_index", index=quote_ident(index), **ctx),
                False,
                EXPAND,
                rule,
            )
        )
        contract_keys.append((quote_ident(constraint), kind, quote_ident(index)))
    contract = [
        Step(render(TEMPLATE, "drop_trigger", **ctx), True, CONTRACT, rule),
        Step(render(TEMPLATE, "drop_function", **ctx), True, CONTRACT, rule),
        Step(render(TEMPLATE, "drop_old_column", **ctx), True, CONTRACT, rule),
    ]
    if rename_to:
        contract.append(Step(render(TEMPLATE, "rename_new_column", **ctx), True, CONTRACT, rule))
    for constraint, kind, index in contract_keys:
        contract.append(
            Step(
                render(TEMPLATE, "add_key", constraint=constraint, kind=kind, index=index, **ctx),
                True,
                CONTRACT,
                rule,
            )
        )
    note = f"Ship this only once no running version of the application uses {name}.{old}."
    return Plan(rule, (*expand, *contract), reorders_columns=True, contract_note=note)


def alter_column_type(
    stmt: Statement, state: MigrationState, hit: Hit, options: FixOptions
) -> Plan | Unfixable:
    rule = "ZD202"
    found = single_command(stmt, rule)
    if isinstance(found, Unfixable):
        return found
    _, cmd = found
    definition = cmd.def_
    assert isinstance(definition, ast.ColumnDef)
    old = cmd.name or ""
    new = derived_name(old, "new")
    using = definition.raw_default
    sync = _trigger_expression(using, old, definition.typeName)
    if using is None:
        cast = ast.TypeCast(
            arg=ast.ColumnRef(fields=(ast.String(sval=old),)), typeName=definition.typeName
        )
        backfill = deparse(cast)
    else:
        backfill = deparse(using)
    return _expand_contract(
        rule,
        stmt,
        state,
        options,
        old=old,
        new=new,
        new_type=deparse(definition.typeName),
        sync_expression=sync,
        backfill_expression=f"({backfill})",
        both_ways=False,
        rename_to=old,
    )


def rename_column(
    stmt: Statement, state: MigrationState, hit: Hit, options: FixOptions
) -> Plan | Unfixable:
    rule = "ZD302"
    node = stmt.node
    assert isinstance(node, ast.RenameStmt)
    old, new = node.subname or "", node.newname or ""
    column = state.schema.column(relation_name(node.relation), old)
    if column is None:
        return _unknown(rule, relation_name(node.relation), old)
    return _expand_contract(
        rule,
        stmt,
        state,
        options,
        old=old,
        new=new,
        new_type=str(column.type),
        sync_expression=f"NEW.{quote_ident(old)}",
        backfill_expression=quote_ident(old),
        both_ways=True,
        rename_to=None,
    )


PLANNERS = {"ZD202": alter_column_type, "ZD302": rename_column}
