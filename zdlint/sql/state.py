"""Migration state: what is true just before each statement of a file runs.

The replay walks a file statement by statement and keeps whether a transaction is open
(explicit, or the one the migration tool wraps around the file), the lock_timeout and
statement_timeout really in effect, the objects created earlier in the file, validated
`CHECK (col IS NOT NULL)` constraints, and the tables that already hold ACCESS EXCLUSIVE
in the open transaction. Checks read the state; only `advance` changes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pglast import ast
from pglast.enums import (
    AlterTableType,
    ConstrType,
    ObjectType,
    TransactionStmtKind,
    VariableSetKind,
)

from zdlint.sql.locking import alter_table_command_lock, ddl_tables
from zdlint.sql.names import const_string, last_name, relation_name, walk
from zdlint.sql.parse import Statement
from zdlint.sql.schema import SchemaModel
from zdlint.sql.timeouts import parse_duration_ms
from zdlint.sql.tools import Region, ToolLayout

DEFAULT_PG_VERSION = 15
SUPPORTED_PG_VERSIONS = range(11, 19)
TIMEOUT_SETTINGS = ("lock_timeout", "statement_timeout")


@dataclass
class Timeouts:
    """Session and SET LOCAL values of one setting; None means no timeout."""

    session: float | None = None
    local: float | None = None
    local_set: bool = False

    @property
    def effective(self) -> float | None:
        return self.local if self.local_set else self.session


@dataclass
class MigrationState:
    """Facts in force before the current statement. Checks must not mutate it."""

    pg_version: int = DEFAULT_PG_VERSION
    max_lock_timeout_ms: float = 10_000.0
    layout: ToolLayout | None = None
    region: Region | None = None
    explicit_transaction: bool = False
    implicit_transaction: bool = False
    timeouts: dict[str, Timeouts] = field(
        default_factory=lambda: {name: Timeouts() for name in TIMEOUT_SETTINGS}
    )
    created_tables: set[str] = field(default_factory=set)
    created_indexes: set[str] = field(default_factory=set)
    created_types: set[str] = field(default_factory=set)
    # The schema as it stands: earlier migrations replayed, plus this file so far.
    schema: SchemaModel = field(default_factory=SchemaModel)
    not_valid_in_transaction: set[tuple[str, str]] = field(default_factory=set)
    access_exclusive: set[str] = field(default_factory=set)
    # Text of the CREATE PROCEDURE/FUNCTION statements of this file, by routine name.
    routines: dict[str, str] = field(default_factory=dict)
    # An earlier statement locked an existing table while no lock_timeout was in
    # effect (reset whenever lock_timeout is set again): report a stretch only once.
    ddl_without_lock_timeout: bool = False
    # Session timeouts as they were at BEGIN, restored by ROLLBACK.
    _saved_session: dict[str, float | None] = field(default_factory=dict)

    # --- questions the checks ask -------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        return self.explicit_transaction or self.implicit_transaction

    @property
    def lock_timeout_ms(self) -> float | None:
        return self.timeouts["lock_timeout"].effective

    @property
    def statement_timeout_ms(self) -> float | None:
        return self.timeouts["statement_timeout"].effective

    def is_new_table(self, table: str) -> bool:
        """Created earlier in this file: nobody else can be waiting on it."""
        return table in self.created_tables

    def has_validated_not_null_check(self, table: str, column: str) -> bool:
        return self.schema.has_validated_not_null(table, column)

    def holds_access_exclusive(self, table: str) -> bool:
        return self.in_transaction and table in self.access_exclusive

    @property
    def transaction_origin(self) -> str:
        """Why a transaction is open, for messages."""
        if self.explicit_transaction:
            return "an explicit BEGIN"
        tool = self.layout.tool if self.layout else "the migration tool"
        return f"the transaction {tool} wraps around the file"


def new_state(
    pg_version: int,
    layout: ToolLayout,
    max_lock_timeout_ms: float,
    schema: SchemaModel | None = None,
) -> MigrationState:
    return MigrationState(
        pg_version=pg_version,
        layout=layout,
        max_lock_timeout_ms=max_lock_timeout_ms,
        schema=schema if schema is not None else SchemaModel(),
    )


def enter_region(state: MigrationState, region: Region) -> None:
    """A new tool region starts: the tool commits the old one and opens the new one."""
    if state.region is region:
        return
    if state.implicit_transaction:
        _end_transaction(state, committed=True)
    state.region = region
    state.implicit_transaction = region.wrapped and region.deploy
    if state.implicit_transaction:
        _begin_transaction(state)


def advance(state: MigrationState, stmt: Statement) -> None:
    """Update the state with the effects of `stmt` (which has just run)."""
    node = stmt.node
    if node is None:
        return
    if state.lock_timeout_ms is None and any(not state.is_new_table(t) for t in ddl_tables(node)):
        state.ddl_without_lock_timeout = True
    if isinstance(node, ast.CreateFunctionStmt) and node.funcname:
        state.routines[last_name(node.funcname).lower()] = stmt.text
    handler = _HANDLERS.get(type(node))
    if handler is not None:
        handler(state, node)
    state.schema.apply(node)


# --- transactions ---------------------------------------------------------------


def _begin_transaction(state: MigrationState) -> None:
    state._saved_session = {k: t.session for k, t in state.timeouts.items()}
    state.access_exclusive = set()
    state.not_valid_in_transaction = set()


def _end_transaction(state: MigrationState, committed: bool) -> None:
    for name, timeouts in state.timeouts.items():
        if not committed and name in state._saved_session:
            timeouts.session = state._saved_session[name]
        timeouts.local, timeouts.local_set = None, False
    state.access_exclusive = set()
    state.not_valid_in_transaction = set()
    state.explicit_transaction = False
    region = state.region
    # A batch tool sends the file as one multi-statement query: after COMMIT the rest
    # of the batch runs in a new implicit transaction block.
    state.implicit_transaction = bool(region and region.batch and region.wrapped)


def _transaction(state: MigrationState, node: ast.TransactionStmt) -> None:
    kind = node.kind
    if kind in (TransactionStmtKind.TRANS_STMT_BEGIN, TransactionStmtKind.TRANS_STMT_START):
        if not state.in_transaction:
            _begin_transaction(state)
        state.explicit_transaction = True
    elif kind in (TransactionStmtKind.TRANS_STMT_COMMIT, TransactionStmtKind.TRANS_STMT_PREPARE):
        _end_transaction(state, committed=True)
    elif kind == TransactionStmtKind.TRANS_STMT_ROLLBACK:
        _end_transaction(state, committed=False)
    # Savepoints keep the transaction open; ROLLBACK TO keeps locks already taken.


# --- settings -------------------------------------------------------------------


def _setting_value(args: tuple | None) -> float | None:  # type: ignore[type-arg]
    if not args:
        return None
    text = const_string(args[0])
    if text is None:
        return None
    try:
        ms = parse_duration_ms(text)
    except ValueError:
        return None
    return ms if ms > 0 else None


def _set(state: MigrationState, node: ast.VariableSetStmt) -> None:
    name = (node.name or "").lower()
    if node.kind == VariableSetKind.VAR_RESET_ALL:
        targets = list(state.timeouts)
    elif name in state.timeouts:
        targets = [name]
    else:
        return
    for target in targets:
        value = _setting_value(node.args) if node.kind == VariableSetKind.VAR_SET_VALUE else None
        timeouts = state.timeouts[target]
        if node.is_local:
            if state.in_transaction:  # SET LOCAL outside a transaction has no effect
                timeouts.local, timeouts.local_set = value, True
        else:
            timeouts.session = value
            timeouts.local, timeouts.local_set = None, False
        if target == "lock_timeout":
            state.ddl_without_lock_timeout = False


def _select(state: MigrationState, node: ast.SelectStmt) -> None:
    """`SELECT set_config('lock_timeout', '3s', is_local)` works like SET."""
    for call in walk(node.targetList):
        if not isinstance(call, ast.FuncCall) or last_name(call.funcname).lower() != "set_config":
            continue
        args = call.args or ()
        if len(args) != 3:
            continue
        name = (const_string(args[0]) or "").lower()
        if name not in state.timeouts:
            continue
        value = _setting_value((args[1],))
        is_local = (
            isinstance(args[2], ast.A_Const)
            and isinstance(args[2].val, ast.Boolean)
            and args[2].val.boolval
        )
        timeouts = state.timeouts[name]
        if is_local:
            if state.in_transaction:
                timeouts.local, timeouts.local_set = value, True
        else:
            timeouts.session = value
    return


# --- objects --------------------------------------------------------------------


def _create_table(state: MigrationState, node: ast.CreateStmt) -> None:
    table = relation_name(node.relation)
    state.created_tables.add(table)
    for element in node.tableElts or ():
        if isinstance(element, ast.Constraint):
            _add_constraint(state, table, element)


def _create_table_as(state: MigrationState, node: ast.CreateTableAsStmt) -> None:
    if node.into is not None:
        state.created_tables.add(relation_name(node.into.rel))


def _create_index(state: MigrationState, node: ast.IndexStmt) -> None:
    if node.idxname:
        state.created_indexes.add(node.idxname)


def _create_type(state: MigrationState, node: ast.Node) -> None:
    names = getattr(node, "typeName", None) or getattr(node, "typevar", None)
    if isinstance(names, ast.RangeVar):
        state.created_types.add(relation_name(names))
    elif isinstance(names, tuple):
        state.created_types.add(last_name(names))


def _rename(state: MigrationState, node: ast.RenameStmt) -> None:
    if node.renameType == ObjectType.OBJECT_TABLE and node.newname:
        if relation_name(node.relation) in state.created_tables:
            state.created_tables.add(node.newname)
    if node.relation is not None and relation_name(node.relation) not in state.created_tables:
        state.access_exclusive.add(relation_name(node.relation))


def _drop(state: MigrationState, node: ast.DropStmt) -> None:
    if node.removeType == ObjectType.OBJECT_TABLE:
        for obj in node.objects or ():
            state.created_tables.discard(last_name(obj))


def _add_constraint(state: MigrationState, table: str, con: ast.Constraint) -> None:
    """Constraints added NOT VALID in the open transaction (validation must wait)."""
    if con.skip_validation and con.contype in (ConstrType.CONSTR_CHECK, ConstrType.CONSTR_FOREIGN):
        state.not_valid_in_transaction.add((table, con.conname or f"{table}_check"))


def _alter_table(state: MigrationState, node: ast.AlterTableStmt) -> None:
    table = relation_name(node.relation)
    if node.objtype != ObjectType.OBJECT_TABLE:
        return
    if table not in state.created_tables:
        if any(alter_table_command_lock(c) == "AccessExclusiveLock" for c in node.cmds or ()):
            state.access_exclusive.add(table)
    for cmd in node.cmds or ():
        subtype = cmd.subtype
        if subtype == AlterTableType.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
            _add_constraint(state, table, cmd.def_)


_HANDLERS: dict[type, Callable[[MigrationState, Any], None]] = {
    ast.TransactionStmt: _transaction,
    ast.VariableSetStmt: _set,
    ast.SelectStmt: _select,
    ast.CreateStmt: _create_table,
    ast.CreateTableAsStmt: _create_table_as,
    ast.IndexStmt: _create_index,
    ast.CreateEnumStmt: _create_type,
    ast.CompositeTypeStmt: _create_type,
    ast.CreateDomainStmt: _create_type,
    ast.RenameStmt: _rename,
    ast.DropStmt: _drop,
    ast.AlterTableStmt: _alter_table,
}
