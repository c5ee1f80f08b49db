"""A foreign key no index leads with (ZD150): the statement as written, then an index on
the referencing columns: CONCURRENTLY outside any transaction on a table with traffic
(after dropping an INVALID leftover of a failed build), a plain one in the transaction on
a table this migration creates (empty, seen by no one yet)."""

from __future__ import annotations

from pglast import ast

from zdlint.findings import Hit
from zdlint.fix.plan import FixOptions, Plan, Step, Unfixable
from zdlint.fix.planners._common import relation_sql
from zdlint.fix.render import render
from zdlint.fix.sql_text import quote_ident
from zdlint.sql.default_names import object_name
from zdlint.sql.locking import new_foreign_keys
from zdlint.sql.names import relation_name, strings
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState


def index_foreign_key(
    stmt: Statement, state: MigrationState, hit: Hit, options: FixOptions
) -> Plan | Unfixable:
    rule = "ZD150"
    node = stmt.node
    assert isinstance(node, (ast.CreateStmt, ast.AlterTableStmt))
    table = relation_name(node.relation)
    unindexed: list[tuple[str, ...]] = []
    for con, column in new_foreign_keys(node):
        columns = tuple(strings(con.fk_attrs)) or ((column,) if column else ())
        if columns and not state.has_index_for(table, columns) and columns not in unindexed:
            unindexed.append(columns)
    if not unindexed:
        return Unfixable(rule, "could not read the foreign key's columns")
    new_table = isinstance(node, ast.CreateStmt) or state.is_new_table(table)
    steps = [Step(render(rule, "statement", statement=stmt.text.rstrip()), rule=rule)]
    schema = node.relation.schemaname if node.relation else None
    names = [object_name(table, "_".join(columns), "idx") for columns in unindexed]
    for columns, name in zip(unindexed, names, strict=True):
        ctx = dict(
            table=relation_sql(node.relation),
            index=".".join(quote_ident(n) for n in (schema, name) if n),
            name=quote_ident(name),
            columns=", ".join(quote_ident(c) for c in columns),
        )
        if new_table:
            steps.append(Step(render(rule, "create_index", **ctx), rule=rule))
        else:
            steps.append(Step(render(rule, "drop_leftover", **ctx), False, rule=rule))
            steps.append(Step(render(rule, "create_concurrently", **ctx), False, rule=rule))
    # every foreign key of the statement gets its index: their findings are settled too
    return Plan(rule, tuple(steps), covers=(rule,), adds_indexes=tuple(names))


PLANNERS = {"ZD150": index_foreign_key}
