"""Changes that break the version still running, moved to the contract phase: a migration
that ships once no running version depends on what they remove.

DROP COLUMN (ZD304) and DROP TABLE (ZD305) move as written; a NOT NULL column without a
default is made nullable now, so the new version, which no longer writes it, can insert.
NOT NULL on a column this release adds (ZD310) moves with the steps that avoid the long
lock (CHECK NOT VALID, VALIDATE, SET NOT NULL), and so does dropping the DEFAULT of such a
column. A statement that a later one of the same file builds on stays: moving it would
change what the later one finds.
"""

from __future__ import annotations

from pglast import ast
from pglast.enums import AlterTableType, ObjectType

from zdlint.findings import Hit
from zdlint.fix.plan import CONTRACT, EXPAND, FixOptions, Plan, Step, Unfixable
from zdlint.fix.planners._common import primary_key, relation_sql, single_command
from zdlint.fix.planners.not_null import not_null_steps
from zdlint.fix.render import render
from zdlint.sql.names import relation_name, strings, walk
from zdlint.sql.parse import Statement
from zdlint.sql.schema import dropped_name, nextval_sequences
from zdlint.sql.state import MigrationState


def _names(node: object) -> set[str]:
    """Every name a statement spells (tables, columns, strings), for the dependency test."""
    names: set[str] = set()
    for inner in walk(node):
        for slot in inner.__slots__:  # type: ignore[attr-defined]
            value = getattr(inner, slot, None)
            if isinstance(value, str):
                names.add(value)
    return names


def _used_later(stmt: Statement, state: MigrationState, *names: str) -> bool:
    """A later statement of the file names all of `names` (say, the table and the column)."""
    assert stmt.node is not None
    return any(set(names) <= _names(later) for later in state.later_in_file(stmt.node))


# Later changes a NOT NULL moved after them would meet in another state than written.
_COLUMN_CHANGES = {
    AlterTableType.AT_DropColumn,
    AlterTableType.AT_DropNotNull,
    AlterTableType.AT_SetNotNull,
    AlterTableType.AT_ColumnDefault,
    AlterTableType.AT_AlterColumnType,
}


def _changed_later(stmt: Statement, state: MigrationState, table: str, column: str) -> bool:
    """A later statement of the file drops, renames or changes the nullability, default
    or type of `table.column`, or drops or renames the table."""
    assert stmt.node is not None
    for later in state.later_in_file(stmt.node):
        if isinstance(later, ast.RenameStmt) and relation_name(later.relation) == table:
            return True
        if isinstance(later, ast.DropStmt) and later.removeType == ObjectType.OBJECT_TABLE:
            if table in {strings(obj)[-1] for obj in later.objects or ()}:
                return True
        if isinstance(later, ast.AlterTableStmt) and relation_name(later.relation) == table:
            if any(c.subtype in _COLUMN_CHANGES and c.name == column for c in later.cmds or ()):
                return True
    return False


def _uses(state: MigrationState, table: str, column: str | None = None) -> set[str]:
    """What a table (or one of its columns) needs to exist while it does: the types of
    its columns, their sequences, the tables its foreign keys reference."""
    found = state.schema.tables.get(table)
    if found is None:
        return set()
    columns = [found.columns[column]] if column in found.columns else []
    if column is None:
        columns = list(found.columns.values())
    needed = {c.type.name for c in columns} | {
        c.owned_sequence for c in columns if c.owned_sequence
    }
    needed |= {seq for c in columns for seq in nextval_sequences(c.default)}
    if column is None:
        needed |= {k.references for k in found.constraints.values() if k.references}
    return needed


def _dropped_later(stmt: Statement, state: MigrationState, needed: set[str]) -> list[str]:
    """The objects of `needed` a later statement of the file drops: moved to the contract,
    a drop of what depends on them would still stand in their way."""
    assert stmt.node is not None
    dropped: list[str] = []
    for later in state.later_in_file(stmt.node):
        if isinstance(later, ast.DropStmt):
            dropped += [
                n for n in map(dropped_name, later.objects or ()) if n.split(".")[-1] in needed
            ]
    return dropped


def drop_column(
    stmt: Statement, state: MigrationState, hit: Hit, options: FixOptions
) -> Plan | Unfixable:
    rule = "ZD304"
    found = single_command(stmt, rule)
    if isinstance(found, Unfixable):
        return found
    node, cmd = found
    table, column = relation_name(node.relation), cmd.name or ""
    if _used_later(stmt, state, table, column):
        return Unfixable(
            rule,
            f"a later statement of this migration uses {table}.{column} again; move the drop"
            " and what follows it to a later migration by hand",
        )
    needs = _dropped_later(stmt, state, _uses(state, table, column))
    if needs:
        return Unfixable(
            rule,
            f"a later statement of this migration drops {', '.join(needs)}, which"
            f" {table}.{column} uses; move the drop and what follows it to a later migration"
            " by hand",
        )
    if primary_key(state, table) == column:
        return Unfixable(rule, f"{table}.{column} is the primary key; replace the key first")
    known = state.schema.column(table, column)
    expand = []
    if known is not None and known.not_null and known.default is None:
        sql = render(rule, "drop_not_null", table=relation_sql(node.relation), column=column)
        expand.append(Step(sql, True, EXPAND, rule))
    drop = Step(render(rule, "statement", statement=stmt.text.rstrip()), True, CONTRACT, rule)
    note = f"Ship this once no running version reads or writes {table}.{column}."
    return Plan(rule, (*expand, drop), contract_note=note)


def drop_table(
    stmt: Statement, state: MigrationState, hit: Hit, options: FixOptions
) -> Plan | Unfixable:
    rule = "ZD305"
    node = stmt.node
    assert isinstance(node, ast.DropStmt)
    tables = [strings(obj)[-1] for obj in node.objects or ()]
    used = [t for t in tables if _used_later(stmt, state, t)]
    if used:
        return Unfixable(
            rule,
            f"a later statement of this migration uses {', '.join(used)} again; move the drop"
            " and what follows it to a later migration by hand",
        )
    needs = _dropped_later(stmt, state, set().union(*(_uses(state, t) for t in tables)))
    if needs:
        return Unfixable(
            rule,
            f"a later statement of this migration drops {', '.join(needs)}, which"
            f" {', '.join(tables)} uses; move the drop and what follows it to a later migration"
            " by hand",
        )
    drop = Step(render(rule, "statement", statement=stmt.text.rstrip()), True, CONTRACT, rule)
    note = f"Ship this once no running version uses {', '.join(tables)}."
    return Plan(rule, (drop,), contract_note=note)


def not_null_later(
    stmt: Statement, state: MigrationState, hit: Hit, options: FixOptions
) -> Plan | Unfixable:
    rule = "ZD310"
    found = single_command(stmt, rule)
    if isinstance(found, Unfixable):
        return found
    node, cmd = found
    table, column = relation_name(node.relation), str(hit.fields.get("column", cmd.name or ""))
    if _changed_later(stmt, state, table, column):
        return Unfixable(
            rule,
            f"a later statement of this migration changes {table}.{column} again; move this"
            " statement and what follows it to a later migration by hand",
        )
    note = (
        f"Ship this once every running version writes {table}.{column}"
        " and every existing row has a value."
    )
    statement = Step(render(rule, "statement", statement=stmt.text.rstrip()), True, CONTRACT, rule)
    if cmd.subtype != AlterTableType.AT_SetNotNull:
        # CHECK (col IS NOT NULL) or DROP DEFAULT: as written, once writers set the column
        return Plan(rule, (statement,), contract_note=note)
    steps = not_null_steps(rule, relation_sql(node.relation), table, column, state, phase=CONTRACT)
    if isinstance(steps, Unfixable):
        return steps
    after = list(steps.after)
    if after and after[0].sql.endswith("SET NOT NULL"):  # keep the user's own statement
        after[0] = Step(statement.sql, True, CONTRACT, rule, new_transaction=True)
    # the steps avoid SET NOT NULL's scan under ACCESS EXCLUSIVE too (ZD101)
    return Plan(rule, (*steps.before, *after), contract_note=note, covers=("ZD101",))


PLANNERS = {"ZD304": drop_column, "ZD305": drop_table, "ZD310": not_null_later}
