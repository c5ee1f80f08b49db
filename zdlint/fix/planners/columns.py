"""Changes the running version cannot survive, as expand now + contract later:
ALTER COLUMN TYPE that rewrites (ZD202) and RENAME COLUMN (ZD302).

Expand adds the new column, a trigger that keeps it in step with the old one (before
the copy starts, so rows written meanwhile are kept), a batched backfill that runs to
completion, its NOT NULL, and every key, index, CHECK and FOREIGN KEY on the old column
built again on the new one. Contract (a separate file, shipped once no running version
uses the old column) drops the trigger and the old column and gives the new one the old
one's place: its name, sequence, keys, and the old names of what was rebuilt. What cannot
be carried over (identity, foreign keys pointing at the column, exclusion constraints,
later statements that need the change done) is refused with the reason.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from pglast import ast

from zdlint.findings import Hit
from zdlint.fix.plan import CONTRACT, EXPAND, FixOptions, Plan, Step, Unfixable
from zdlint.fix.planners._common import (
    add_foreign_key_sql,
    primary_key,
    relation_sql,
    single_command,
)
from zdlint.fix.planners.backfill import batched_steps, repeatable
from zdlint.fix.planners.not_null import not_null_steps
from zdlint.fix.render import render
from zdlint.fix.sql_text import quote_ident
from zdlint.sql.names import derived_name, function_names, relation_name, strings, walk
from zdlint.sql.parse import Statement
from zdlint.sql.schema import Column, ColumnType, SchemaModel
from zdlint.sql.state import MigrationState
from zdlint.sql.statement_sql import deparse

TEMPLATE = "ZD202"


def type_sql(kind: ColumnType) -> str:
    """A model type as SQL, quoted as written (Prisma's enums: "UserRole")."""
    modifiers = f"({', '.join(map(str, kind.modifiers))})" if kind.modifiers else ""
    return f"{quote_ident(kind.name)}{modifiers}{'[]' if kind.array else ''}"


def _unknown(rule: str, table: str, column: str) -> Unfixable:
    return Unfixable(
        rule,
        f"zdlint does not know {table}.{column} (its type, default and indexes); keep the "
        "earlier migrations beside this file or pass --schema",
    )


@dataclass
class _Dependents:
    """What is built on the old column, and how the rewrite carries it over."""

    # (constraint, PRIMARY KEY | UNIQUE, its columns with the new one in place of the old)
    keys: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)
    expand: list[Step] = field(default_factory=list)  # built on the new column
    contract: list[Step] = field(default_factory=list)  # given the old names back


def _mentions(node: object, column: str) -> bool:
    """`node` (an index, a constraint, an expression) reads `column`."""
    for found in walk(node):
        if isinstance(found, ast.IndexElem) and found.name == column:
            return True
        if isinstance(found, ast.ColumnRef) and strings(found.fields)[-1:] == [column]:
            return True
    return False


def _moved(node: ast.Node, old: str, new: str) -> ast.Node:
    """A copy of `node` that reads `new` wherever it read `old`."""
    moved = copy.deepcopy(node)
    for found in walk(moved):
        if isinstance(found, ast.IndexElem) and found.name == old:
            found.name = new
        elif isinstance(found, ast.ColumnRef) and strings(found.fields)[-1:] == [old]:
            found.fields = (*(found.fields or ())[:-1], ast.String(sval=new))
    return moved


def _referenced_by(model: SchemaModel, table: str, column: str, primary: bool) -> str | None:
    """A foreign key (of any table) that references `table.column`; `primary`: the
    column is the table's primary key, which a foreign key naming no columns references."""
    for other in model.tables.values():
        for constraint in other.constraints.values():
            if constraint.kind != "foreign" or constraint.references != table:
                continue
            definition = constraint.definition
            if definition is None:  # unknown columns: it may reference this one
                return f"{other.name}.{constraint.name}"
            referenced = strings(definition.pk_attrs)
            if column in referenced or (not referenced and primary):
                return f"{other.name}.{constraint.name}"
    return None


def _dependents(
    rule: str, model: SchemaModel, relation: ast.RangeVar, old: str, new: str
) -> _Dependents | Unfixable:
    """The keys, constraints and indexes on `old`: rebuilt on `new`, or why not."""
    name, table = relation_name(relation), relation_sql(relation)
    schema = relation.schemaname
    found = _Dependents()
    backing: set[str] = set()

    def qualified(object_name: str) -> str:
        return ".".join(quote_ident(n) for n in (schema, object_name) if n)

    for constraint in model.tables[name].constraints.values():
        backing.add(constraint.name)
        definition = constraint.definition
        on_column = (
            old in constraint.columns
            or constraint.not_null_column == old
            or (definition is not None and _mentions(definition, old))
        )
        if not on_column:
            continue
        if constraint.kind in ("primary", "unique") and not (
            definition is not None
            and (
                definition.deferrable
                or definition.including
                or definition.options
                or definition.nulls_not_distinct
            )
        ):
            kind = "PRIMARY KEY" if constraint.kind == "primary" else "UNIQUE"
            found.keys.append(
                (constraint.name, kind, tuple(new if c == old else c for c in constraint.columns))
            )
            continue
        if constraint.kind == "not_null":
            continue  # the column's NOT NULL, made again on the new column
        if (
            constraint.kind not in ("check", "foreign")
            or definition is None
            or (constraint.kind == "check" and definition.raw_expr is None)
        ):
            return Unfixable(
                rule,
                f"{name}.{old} is part of {constraint.name} ({constraint.kind}), which zdlint "
                "cannot build again on the new column; change it by hand",
            )
        again = derived_name(constraint.name, "new")
        if constraint.kind == "check":
            assert definition.raw_expr is not None
            expression = deparse(_moved(definition.raw_expr, old, new))
            add = f"ALTER TABLE {table} ADD CONSTRAINT {quote_ident(again)} CHECK ({expression})"
        else:
            columns = [new if c == old else c for c in constraint.columns]
            add = add_foreign_key_sql(relation, again, columns, definition)
        found.expand += [
            Step(add + " NOT VALID", True, EXPAND, rule, new_transaction=True),
            Step(
                f"ALTER TABLE {table} VALIDATE CONSTRAINT {quote_ident(again)}",
                True,
                EXPAND,
                rule,
                new_transaction=True,
            ),
        ]
        found.contract.append(
            Step(
                f"ALTER TABLE {table} RENAME CONSTRAINT {quote_ident(again)} "
                f"TO {quote_ident(constraint.name)}",
                True,
                CONTRACT,
                rule,
            )
        )
    primary = any(kind == "PRIMARY KEY" for _, kind, _ in found.keys)
    referencing = _referenced_by(model, name, old, primary)
    if referencing is not None:
        return Unfixable(
            rule,
            f"the foreign key {referencing} references {name}.{old}: it would have to move to "
            "the new column with the key; change it by hand",
        )
    for index in model.indexes_on(name):
        if index.name in backing:
            continue
        if index.definition is None:
            if old in index.columns:
                return Unfixable(
                    rule,
                    f"zdlint does not know how the index {index.name} on {name}.{old} was "
                    "built, so it cannot build it again on the new column",
                )
            continue
        if not _mentions(index.definition, old):
            continue
        again = derived_name(index.name, "new")
        build = _moved(index.definition, old, new)
        assert isinstance(build, ast.IndexStmt)
        build.idxname, build.concurrent, build.if_not_exists = again, True, False
        found.expand += [
            Step(f"DROP INDEX CONCURRENTLY IF EXISTS {qualified(again)}", False, EXPAND, rule),
            Step(deparse(build), False, EXPAND, rule),
        ]
        found.contract.append(
            Step(
                f"ALTER INDEX {qualified(again)} RENAME TO {quote_ident(index.name)}",
                True,
                CONTRACT,
                rule,
            )
        )
    return found


def _later_use(
    state: MigrationState, stmt: Statement, table: str, column: str, kind: Column
) -> str | None:
    """The first later statement of the file that uses the column, or its own type
    (Prisma's enum swap renames and drops the old type right after the ALTER)."""
    user_type = kind.type.name if kind.type.name in state.schema.enums else None
    assert stmt.node is not None
    later = set(map(id, state.later_in_file(stmt.node)))
    for statement in state.file_statements:
        node = statement.node
        if id(node) not in later:
            continue
        names = {n.sval for n in walk(node) if isinstance(n, ast.String)}
        names |= {n.name for n in walk(node) if isinstance(n, ast.IndexElem) and n.name}
        names |= {n.subname for n in walk(node) if isinstance(n, ast.RenameStmt) and n.subname}
        names |= {n.name for n in walk(node) if isinstance(n, ast.AlterTableCmd) and n.name}
        names |= {n.colname for n in walk(node) if isinstance(n, ast.ColumnDef) and n.colname}
        tables = {n.relname for n in walk(node) if isinstance(n, ast.RangeVar)}
        if (table in tables and column in names) or (user_type is not None and user_type in names):
            return f"line {statement.span.line}"
    return None


def _trigger_expression(using: ast.Node | None, old: str) -> str:
    """The new column's value computed from NEW (the row being written). Assigned in
    PL/pgSQL, it is converted as an UPDATE's SET converts it (an assignment cast, as
    ALTER COLUMN TYPE does): `varchar(3)` raises on 'abcd' where `::varchar(3)` would
    cut it to 'abc'."""
    if using is None:
        return deparse(ast.ColumnRef(fields=(ast.String(sval="new"), ast.String(sval=old))))
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
    using: ast.Node | None,  # the USING expression, if any
    both_ways: bool,  # rename: writes to either column reach the other
    rename_to: str | None,  # the contract renames `new` to this
) -> Plan | Unfixable:
    node = stmt.node
    relation = node.relation  # type: ignore[union-attr]
    table, name = relation_sql(relation), relation_name(relation)
    column: Column | None = state.schema.column(name, old)
    if column is None:
        return _unknown(rule, name, old)
    if column.identity:
        return Unfixable(
            rule,
            f"{name}.{old} is an identity column: its sequence belongs to the column and "
            "cannot pass to a new one; change it by hand",
        )
    later = _later_use(state, stmt, name, old, column)
    if later is not None:
        return Unfixable(
            rule,
            f"a later statement of this migration ({later}) relies on {name}.{old} being "
            "changed already, which the contract phase does only later; split the migration",
        )
    dependents = _dependents(rule, state.schema, relation, old, new)
    if isinstance(dependents, Unfixable):
        return dependents
    # A sequence default moves in the contract (with the sequence's ownership, or
    # dropping the old column would drop the sequence); until then the trigger copies
    # the old column's value, so the sequence is not drawn twice per row.
    sequence = column.default is not None and "nextval" in function_names(column.default)
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
    if column.default is not None and not sequence:
        expand.append(Step(render(TEMPLATE, "set_default", **ctx), True, EXPAND, rule))
    key = primary_key(state, name)
    if key is None and not repeatable(using, state.schema.functions):
        return Unfixable(
            rule,
            f"zdlint does not know the primary key of {name}, and without one the batches end "
            "only if the USING expression gives the same value when computed again",
        )
    # without a key, ctid batches repeat until every row holds the value it would get
    guard = f"{quote_ident(new)} IS DISTINCT FROM CAST({backfill_expression} AS {new_type})"
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
    expand += dependents.expand
    contract_keys = []
    for constraint, kind, columns in dependents.keys:
        index = derived_name(constraint, "new")
        schema = relation.schemaname
        qualified = ".".join(quote_ident(n) for n in (schema, index) if n)
        expand.append(
            Step(render(TEMPLATE, "drop_leftover_index", index=qualified), False, EXPAND, rule)
        )
        expand.append(
            Step(
                render(
                    TEMPLATE,
                    "unique_index",
                    index=quote_ident(index),
                    columns=", ".join(map(quote_ident, columns)),
                    **ctx,
                ),
                False,
                EXPAND,
                rule,
            )
        )
        contract_keys.append((quote_ident(constraint), kind, quote_ident(index)))
    contract = [
        Step(render(TEMPLATE, "drop_trigger", **ctx), True, CONTRACT, rule),
        Step(render(TEMPLATE, "drop_function", **ctx), True, CONTRACT, rule),
    ]
    if sequence:
        contract.append(Step(render(TEMPLATE, "set_default", **ctx), True, CONTRACT, rule))
    if column.owned_sequence:
        owned = ".".join(quote_ident(n) for n in (relation.schemaname, column.owned_sequence) if n)
        contract.append(
            Step(render(TEMPLATE, "own_sequence", sequence=owned, **ctx), True, CONTRACT, rule)
        )
    contract.append(Step(render(TEMPLATE, "drop_old_column", **ctx), True, CONTRACT, rule))
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
    contract += dependents.contract
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
    sync = _trigger_expression(using, old)
    # assigned as ALTER COLUMN TYPE converts: by assignment cast, never an explicit one
    backfill = quote_ident(old) if using is None else deparse(using)
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
        using=using,
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
        new_type=type_sql(column.type),
        sync_expression=f"NEW.{quote_ident(old)}",
        backfill_expression=quote_ident(old),
        using=None,
        both_ways=True,
        rename_to=None,
    )


PLANNERS = {"ZD202": alter_column_type, "ZD302": rename_column}
