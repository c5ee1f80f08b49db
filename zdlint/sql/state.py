"""Migration state: what is true just before each statement of a file runs.

The replay walks a file statement by statement and keeps whether a transaction is open
(explicit, or the one the migration tool wraps around the file), the lock_timeout and
statement_timeout really in effect, the objects created earlier in the file, validated
`CHECK (col IS NOT NULL)` constraints, and the tables that already hold ACCESS EXCLUSIVE
in the open transaction. Checks read the state; only `advance` changes it.

Tables that cannot be big: a table created earlier in the file (nobody else knows it),
and a table TRUNCATEd earlier in the open transaction, which stays empty and locked
ACCESS EXCLUSIVE until COMMIT, so scanning, rewriting, indexing or validating it is
instant. A TRUNCATE outside a transaction does not count: it commits at once, the
running version may insert again straight away, and nothing bounds how much it writes
before a later statement gets its lock. Filling the table again (`INSERT … SELECT`,
`COPY … FROM`) ends its emptiness.
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

from zdlint.locks import covers, lock_mode, queues_traffic
from zdlint.sql.column_defs import not_null_without_value
from zdlint.sql.locking import (
    TableLock,
    access_exclusive_of,
    statement_locks,
)
from zdlint.sql.long_operations import long_operations, work_under_lock
from zdlint.sql.names import (
    const_string,
    is_temporary,
    last_name,
    relation_name,
    strings,
    walk,
)
from zdlint.sql.parse import Statement
from zdlint.sql.schema import SchemaModel, indexes_created, table_created_by
from zdlint.sql.timeouts import parse_duration_ms
from zdlint.sql.tools import Region, ToolLayout
from zdlint.versions import DEFAULT_PG_VERSION, SUPPORTED_PG_VERSIONS  # noqa: F401 - re-exported

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
    timezone_utc: bool = True  # the session TimeZone: timestamp -> timestamptz is free in UTC
    layout: ToolLayout | None = None
    region: Region | None = None
    explicit_transaction: bool = False
    implicit_transaction: bool = False
    timeouts: dict[str, Timeouts] = field(
        default_factory=lambda: {name: Timeouts() for name in TIMEOUT_SETTINGS}
    )
    # Tables created in this file or by an earlier migration of the release checked.
    created_tables: set[str] = field(default_factory=set)
    created_indexes: set[str] = field(default_factory=set)
    created_types: set[str] = field(default_factory=set)
    # The schema as it stands: earlier migrations replayed, plus this file so far.
    schema: SchemaModel = field(default_factory=SchemaModel)
    not_valid_in_transaction: set[tuple[str, str]] = field(default_factory=set)
    access_exclusive: set[str] = field(default_factory=set)
    # Those of them that carry the application's traffic (see `traffic_tables`).
    access_exclusive_traffic: set[str] = field(default_factory=set)
    # The strongest lock DDL took on each existing table in the open transaction.
    ddl_locks: dict[str, str] = field(default_factory=dict)
    # (statement, schema, its locks): the last `locks_of`, until the schema changes
    _locks_memo: tuple[object, object, list[TableLock]] | None = field(
        default=None, repr=False, compare=False
    )
    # A statement did real work while the open transaction held ACCESS EXCLUSIVE.
    worked_under_access_exclusive: bool = False
    # Enum labels added (ALTER TYPE … ADD VALUE) in the open transaction: label -> type.
    enum_values_in_transaction: dict[str, str] = field(default_factory=dict)
    # Views and materialized views created in this file (or earlier in the release).
    created_views: set[str] = field(default_factory=set)
    # New names given in this file to existing types, functions and views: the running
    # version only knows the old name (the rename itself is what breaks it), so a later
    # DROP of the new name (`ALTER TYPE s RENAME TO s_old; … DROP TYPE s_old`) is not
    # a second break.
    renamed_in_file: set[str] = field(default_factory=set)
    # The labels of each enum as the running version knows them (before this file).
    enums_before_file: dict[str, list[str]] = field(default_factory=dict)
    # Types renamed in this file: new name -> the name it had before.
    type_renamed_from: dict[str, str] = field(default_factory=dict)
    # (table, column) added to an existing table by this file (or earlier in the
    # release): the running version of
    # the application does not know these columns, so it never writes them.
    added_columns: set[tuple[str, str]] = field(default_factory=set)
    # (table, column) of the running version dropped by this file: a column added or
    # renamed into that name later is one the running version knows by name.
    dropped_columns: set[tuple[str, str]] = field(default_factory=set)
    # Every statement of the file, for the few questions about the whole file or about
    # the rest of a transaction.
    file_statements: list[Statement] = field(default_factory=list)
    # The migration tool's own transaction (BEGIN before the file) is the open one: a
    # COMMIT in the file ends it early.
    tool_transaction: bool = False
    # Tables TRUNCATEd in the open transaction and not filled again since.
    truncated: set[str] = field(default_factory=set)
    # Functions whose trigger this file dropped (DROP TRIGGER, or DROP TABLE).
    released_trigger_functions: set[str] = field(default_factory=set)
    _temporary_names: set[str] | None = None
    _positions: dict[int, int] | None = None
    _indexes_in_file: set[tuple[str, tuple[str, ...]]] | None = None
    # Text of the CREATE PROCEDURE/FUNCTION statements of this file, by routine name.
    routines: dict[str, str] = field(default_factory=dict)
    # Tables an earlier statement queued a lock request on while no lock_timeout was in
    # effect (emptied whenever lock_timeout is set again): a stretch without one is
    # reported once per table.
    queued_without_lock_timeout: set[str] = field(default_factory=set)
    # The same for table-sized work (scans, rewrites, bulk changes) and statement_timeout.
    long_operation_without_statement_timeout: bool = False
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

    @property
    def file_nodes(self) -> list[ast.Node]:
        """Every parsed statement of the file."""
        return [s.node for s in self.file_statements if s.node is not None]

    def is_new_table(self, table: str) -> bool:
        """Created earlier in this file, or a TEMP table of this file: nobody else can be
        waiting on it. A name the file creates as a TEMP table and the schema model does
        not know as a shared table is the file's scratch table everywhere in the file
        (`DROP TABLE IF EXISTS x; CREATE TEMP TABLE x …`)."""
        if table in self.created_tables:
            return True
        if self._temporary_names is None:
            self._temporary_names = _temporary_tables(self.file_nodes)
        return table in self._temporary_names and not self.schema.is_shared_table(table)

    def is_empty(self, table: str) -> bool:
        """Nothing in `table` can make a scan, rewrite, index build or validation slow: it
        is new, or the open transaction (which still holds its lock) TRUNCATEd it or added
        a NOT NULL column without a value to it, which succeeds only on an empty table."""
        return self.is_new_table(table) or (self.in_transaction and table in self.truncated)

    def locks_of(self, node: ast.Node | None) -> list[TableLock]:
        """`statement_locks(node, self.schema)`, worked out once per statement: the
        checks of a statement and its `advance` all ask, before the schema changes."""
        memo = self._locks_memo
        if memo is not None and memo[0] is node and memo[1] is self.schema:
            return memo[2]
        locks = statement_locks(node, self.schema)
        self._locks_memo = (node, self.schema, locks)
        return locks

    def lock_waits(self, node: ast.Node | None) -> list[str]:
        """The tables `node` has to wait for a lock on (this transaction does not hold one
        strong enough, the table is not new); a lock on an index counts as one on its table
        when the schema model knows the table, else under the index's name."""
        names = (
            lock.table or lock.index
            for lock in self.locks_of(node)
            if not self._granted_at_once(lock)
        )
        return list(dict.fromkeys(name for name in names if name))

    def is_unused_trigger_function(self, function: str) -> bool:
        """`function` is a trigger function (declared RETURNS trigger, or this file
        dropped a trigger that ran it) and no trigger the schema model knows still runs
        it: only triggers can call a trigger function."""
        name = function.lower()
        trigger_only = (
            name in self.released_trigger_functions or name in self.schema.trigger_only_functions
        )
        return trigger_only and name not in self.schema.trigger_functions()

    def rest_of_transaction(self, node: ast.Node) -> tuple[list[ast.Node], bool]:
        """The statements after `node` that run in the same transaction, and whether that
        transaction is closed: by COMMIT or ROLLBACK, or by the tool at the end of its
        region. Outside a transaction `node` commits on its own: ([], True). For a BEGIN,
        the transaction it opens."""
        begins = _opens_transaction(node) and not self.tool_transaction
        # BEGIN inside the tool's own transaction does nothing: the tool still ends it.
        explicit = (self.explicit_transaction and not self.tool_transaction) or begins
        if not explicit and not self.in_transaction:
            return [], True
        after = self._statements_after(node)
        if after is None:
            return [], True
        region = self.region
        rest: list[ast.Node] = []
        for stmt in after:
            here = self.layout.region_at(stmt.start) if self.layout else region
            if here is not region and not explicit:
                return rest, True  # the tool commits its transaction at the region's end
            if here is not None and not here.deploy:
                continue
            if _closes_transaction(stmt.node):
                return rest, True
            if stmt.node is not None:
                rest.append(stmt.node)
        return rest, not explicit

    def later_in_file(self, node: ast.Node) -> list[ast.Node]:
        """The parsed statements the file deploys after `node`."""
        return [
            s.node
            for s in self._statements_after(node) or ()
            if s.node is not None and (self.layout is None or self.layout.region_at(s.start).deploy)
        ]

    def _statements_after(self, node: ast.Node) -> list[Statement] | None:
        """The statements after `node`; None when `node` is not one of the file's."""
        if self._positions is None:
            self._positions = {id(s.node): i for i, s in enumerate(self.file_statements)}
        position = self._positions.get(id(node))
        return None if position is None else self.file_statements[position + 1 :]

    def has_validated_not_null_check(self, table: str, column: str) -> bool:
        return self.schema.has_validated_not_null(table, column)

    def has_index_for(self, table: str, columns: tuple[str, ...]) -> bool:
        """Some index, existing or created anywhere in this file, leads with `columns`:
        a foreign key added before its index in the same migration is still covered."""
        if self.schema.has_index_leading_with(table, columns):
            return True
        if self._indexes_in_file is None:
            self._indexes_in_file = indexes_created(self.file_nodes)
        width = len(columns)
        return any(
            t == table and set(cols[:width]) == set(columns) for t, cols in self._indexes_in_file
        )

    def has_validated_check(self, table: str) -> bool:
        """A validated CHECK constraint exists on `table` (from the schema model)."""
        found = self.schema.tables.get(table)
        return found is not None and any(
            c.kind == "check" and c.validated for c in found.constraints.values()
        )

    def is_partitioned(self, table: str) -> bool | None:
        """True for a partitioned table, False for a plain one, None when unknown."""
        return self.schema.is_partitioned(table)

    def holds_access_exclusive(self, table: str) -> bool:
        return self.in_transaction and table in self.access_exclusive

    def queued_locks(
        self, node: ast.Node | None, locks: list[TableLock] | None = None
    ) -> list[TableLock]:
        """The locks `node` requests on existing tables that would hold up ordinary
        queries while they wait in the queue: the ones a lock_timeout must bound.
        `locks` are the statement's locks when the caller has them already."""
        return [
            lock
            for lock in (self.locks_of(node) if locks is None else locks)
            if queues_traffic(lock.mode) and not self._granted_at_once(lock)
        ]

    def _granted_at_once(self, lock: TableLock) -> bool:
        """Nobody else can hold a conflicting lock: the table is new, or this transaction
        already holds a lock that conflicts with everything the request does."""
        if lock.table is None:  # the table of an index the schema does not know
            return lock.index in self.created_indexes
        if self.is_new_table(lock.table) or lock.table in self.created_views:
            return True
        if lock.table not in self.schema.tables and lock.table not in self.schema.views:
            # a sequence, perhaps: its only users, its table's writers, wait for the table.
            # Only a table held here can answer yes: ask those before scanning them all.
            if self.in_transaction and any(
                self.schema.takes_from(table, lock.table) for table in self.access_exclusive
            ):
                owner = self.schema.sequence_table(lock.table)
                if owner is not None and self.holds_access_exclusive(owner):
                    return True
        held = self.ddl_locks.get(lock.table) if self.in_transaction else None
        return self.holds_access_exclusive(lock.table) or (
            held is not None and covers(held, lock.mode)
        )

    def carries_traffic(self, node: ast.Node | None, name: str) -> bool:
        """Whether `name`, which `node` locks, is a relation the running application
        reads and writes, so that taking its lock can wait behind that traffic: a table
        or materialized view that stays in use. Not a plain view (it holds no rows, and
        views are replaced together in one transaction, which must stay atomic), not an
        index (its table is what traffic waits for), and not a relation dropped for good
        (the running version must no longer use it: ZD305/ZD306 report it if it does);
        a table or materialized view dropped and created again in this transaction is in
        use."""
        if isinstance(node, ast.DropStmt) and node.removeType == ObjectType.OBJECT_VIEW:
            return False
        if isinstance(node, ast.DropStmt) and node.removeType in _REPLACED_RELATIONS:
            kind = _REPLACED_RELATIONS[node.removeType]
            return bool(self.created_again(node, kind, [name]))
        if isinstance(node, ast.RenameStmt) and node.renameType in _NOT_TRAFFIC:
            return False
        if isinstance(node, ast.AlterTableStmt) and node.objtype in _NOT_TRAFFIC:
            return False
        return name not in self.schema.views or name in self.schema.materialized

    def created_again(self, node: ast.Node, kind: str, names: list[str]) -> set[str]:
        """Which of `names` (bare) the rest of the open transaction creates again as a
        `kind` (see `created_names`): the running version sees the old object and the
        new one swap atomically at COMMIT, and never a moment without either."""
        wanted = set(names)
        later, _closed = self.rest_of_transaction(node)
        found: set[str] = set()
        for other in later:
            found |= {name for k, name in created_names(other) if k == kind and name in wanted}
        return found

    def missing_at_commit(
        self, node: ast.Node, kind: ObjectType | None, names: list[str]
    ) -> list[str]:
        """Of the objects of `kind` that `node` drops or renames, those whose name the
        rest of the open transaction does not create again as the same kind of object
        (a replacement is atomic: the running version always finds the name)."""
        created = _CREATED_KINDS.get(kind) if kind is not None else None
        if created is None:
            return names

        def bare(name: str) -> str:
            last = name.split(".")[-1]
            return last.lower() if created == "routine" else last

        again = self.created_again(node, created, [bare(n) for n in names])
        return [n for n in names if bare(n) not in again]

    def enum_labels_lost(self, dropped: str) -> tuple[str, list[str]] | None:
        """When `dropped` is an enum this file renamed away from a name that now belongs
        to a new enum (the swap that replaces an enum type), that name and the labels of
        the old type the new one lacks; None otherwise or when the model lacks either.
        Labels the running version does not know (added by this file or earlier in the
        release) are not lost to it."""
        original = self.type_renamed_from.get(dropped)
        old = self.schema.enums.get(dropped)
        new = self.schema.enums.get(original) if original else None
        if original is None or old is None or new is None:
            return None
        known = self.enums_before_file.get(original, old)
        return original, [label for label in old if label not in new and label in known]

    def traffic_tables(
        self, node: ast.Node | None, locks: list[TableLock] | None = None
    ) -> list[str]:
        """Relations that carry traffic (`carries_traffic`) which this statement newly
        locks ACCESS EXCLUSIVE in the open transaction, leaving out relations created
        earlier in the file. `locks` as for `queued_locks`."""
        held = access_exclusive_of(node, self.locks_of(node) if locks is None else locks)
        found = [
            table
            for table in held
            if not self.is_new_table(table)
            and table not in self.access_exclusive
            and self.carries_traffic(node, table)
        ]
        return list(dict.fromkeys(found))

    @property
    def transaction_origin(self) -> str:
        """Why a transaction is open, for messages."""
        if self.explicit_transaction:
            return "an explicit BEGIN"
        tool = self.layout.tool if self.layout else "the migration tool"
        return f"the transaction {tool} wraps around the file"


def created_names(node: ast.Node) -> set[tuple[str, str]]:
    """(kind, bare name) of what a statement brings into existence under a shared name
    (TEMP relations are the session's own): a `table` (CREATE TABLE [AS]), a `view`
    (CREATE [MATERIALIZED] VIEW, or a view renamed to it), a `type` (CREATE TYPE/DOMAIN,
    or a type renamed to it) or a `routine` (CREATE FUNCTION/PROCEDURE, or one renamed
    to it). A table renamed to the name is left out: copy-then-swap is its own hazard."""
    if isinstance(node, ast.CreateStmt) and not is_temporary(node.relation):
        return {("table", relation_name(node.relation))}
    if (
        isinstance(node, ast.CreateTableAsStmt)
        and node.into is not None
        and not is_temporary(node.into.rel)
    ):
        made = "view" if node.objtype == ObjectType.OBJECT_MATVIEW else "table"
        return {(made, relation_name(node.into.rel))}
    if isinstance(node, ast.ViewStmt) and not is_temporary(node.view):
        return {("view", relation_name(node.view))}
    if isinstance(node, ast.CreateFunctionStmt) and node.funcname:
        return {("routine", last_name(node.funcname).lower())}
    if isinstance(node, (ast.CreateEnumStmt, ast.CreateRangeStmt)):
        return {("type", last_name(node.typeName))}
    if isinstance(node, ast.CreateDomainStmt):
        return {("type", last_name(node.domainname))}
    if isinstance(node, ast.CompositeTypeStmt):
        return {("type", relation_name(node.typevar))}
    if isinstance(node, ast.RenameStmt) and node.newname and node.renameType is not None:
        kind = _CREATED_KINDS.get(node.renameType)
        if kind is not None and kind != "table":
            return {(kind, node.newname.lower() if kind == "routine" else node.newname)}
    return set()


# Relations named in a RENAME or ALTER that hold no rows of their own.
_NOT_TRAFFIC = (ObjectType.OBJECT_VIEW, ObjectType.OBJECT_INDEX)
# Dropped relations that hold rows, and the kind of name that replaces them.
_REPLACED_RELATIONS = {ObjectType.OBJECT_TABLE: "table", ObjectType.OBJECT_MATVIEW: "view"}

# The kind of name (see `created_names`) that each kind of object of a DROP or RENAME has.
_CREATED_KINDS = {
    ObjectType.OBJECT_TABLE: "table",
    ObjectType.OBJECT_TYPE: "type",
    ObjectType.OBJECT_DOMAIN: "type",
    ObjectType.OBJECT_VIEW: "view",
    ObjectType.OBJECT_MATVIEW: "view",
    ObjectType.OBJECT_FUNCTION: "routine",
    ObjectType.OBJECT_PROCEDURE: "routine",
    ObjectType.OBJECT_ROUTINE: "routine",
}


def new_state(
    pg_version: int,
    layout: ToolLayout,
    max_lock_timeout_ms: float,
    schema: SchemaModel | None = None,
) -> MigrationState:
    model = schema if schema is not None else SchemaModel()
    # What earlier migrations of the release created is as new to the running version
    # as what this file creates: nobody queries it, and nothing but the release wrote it.
    unreleased = model.unreleased()
    return MigrationState(
        pg_version=pg_version,
        layout=layout,
        max_lock_timeout_ms=max_lock_timeout_ms,
        schema=model,
        enums_before_file={
            name: [label for label in labels if (name, label) not in unreleased.labels]
            for name, labels in model.enums.items()
        },
        created_tables=set(unreleased.tables),
        created_views=set(unreleased.views),
        added_columns={(t, c) for t, c in unreleased.columns if t not in unreleased.tables},
    )


def enter_region(state: MigrationState, region: Region) -> None:
    """A new tool region starts: the tool commits the old one and opens the new one."""
    if state.region is region:
        return
    if state.implicit_transaction:
        _end_transaction(state, committed=True)
    state.region = region
    state.implicit_transaction = region.wrapped and region.deploy
    # A region the tool sends as one batch without a BEGIN of its own (`implicit`) has
    # no tool transaction for a COMMIT to end early.
    state.tool_transaction = state.implicit_transaction and not region.implicit
    if state.implicit_transaction:
        _begin_transaction(state)


def advance(state: MigrationState, stmt: Statement, schema: bool = True) -> None:
    """Update the state with the effects of `stmt` (which has just run); `schema` False:
    the schema model has them already (a DO block whose statements were advanced)."""
    node = stmt.node
    if node is None:
        _unparsed(state, stmt)
        return
    # the statement's locks, worked out once against the schema as it was before it ran
    locks = state.locks_of(node)
    if state.lock_timeout_ms is None:
        state.queued_without_lock_timeout.update(
            lock.relation for lock in state.queued_locks(node, locks)
        )
    if state.statement_timeout_ms is None and long_operations(node, state):
        state.long_operation_without_statement_timeout = True
    if state.in_transaction:
        traffic = state.traffic_tables(node, locks)
        # work under the locks held before this statement: its own are not yet held
        _note_locks(state, node, locks)
        state.access_exclusive_traffic.update(traffic)
    if isinstance(node, ast.CreateFunctionStmt) and node.funcname:
        state.routines[last_name(node.funcname).lower()] = stmt.text
    handler = _HANDLERS.get(type(node))
    if handler is not None:
        handler(state, node)
    if schema:
        state.schema.apply(node)
    state._locks_memo = None  # the statement ran: its locks are no later statement's


def end_of_file(state: MigrationState) -> None:
    """The file has run: its session, and the TEMP tables it made, end."""
    state.schema.end_session()


def _unparsed(state: MigrationState, stmt: Statement) -> None:
    """A statement the parser rejected still creates the table it clearly names."""
    created = table_created_by(stmt.text)
    if created is not None:
        name, temporary, if_not_exists = created
        if not (if_not_exists and state.schema.is_shared_table(name)):
            state.created_tables.add(name)
        state.schema.create_unparsed_table(name, temporary, if_not_exists)


def _temporary_tables(nodes: list[ast.Node]) -> set[str]:
    return {
        relation_name(n.relation)
        for n in nodes
        if isinstance(n, ast.CreateStmt) and is_temporary(n.relation)
    }


_ENDS = (
    TransactionStmtKind.TRANS_STMT_COMMIT,
    TransactionStmtKind.TRANS_STMT_ROLLBACK,
    TransactionStmtKind.TRANS_STMT_PREPARE,
)


def _opens_transaction(node: ast.Node | None) -> bool:
    return isinstance(node, ast.TransactionStmt) and node.kind in (
        TransactionStmtKind.TRANS_STMT_BEGIN,
        TransactionStmtKind.TRANS_STMT_START,
    )


def _closes_transaction(node: ast.Node | None) -> bool:
    return isinstance(node, ast.TransactionStmt) and node.kind in _ENDS


# --- transactions ---------------------------------------------------------------


def _note_locks(state: MigrationState, node: ast.Node, locks: list[TableLock]) -> None:
    """The locks a statement adds to the open transaction, and work done under them."""
    if state.access_exclusive and work_under_lock(node, state):
        state.worked_under_access_exclusive = True
    for lock in locks:
        table = lock.table
        if table is None or lock.index is not None or state.is_new_table(table):
            continue
        held = state.ddl_locks.get(table)
        if held is None or lock_mode(held).strength < lock_mode(lock.mode).strength:
            state.ddl_locks[table] = lock.mode
    for table in access_exclusive_of(node, locks):
        if not state.is_new_table(table):
            state.access_exclusive.add(table)


def _clear_transaction_facts(state: MigrationState) -> None:
    state.access_exclusive = set()
    state.access_exclusive_traffic = set()
    state.not_valid_in_transaction = set()
    state.ddl_locks = {}
    state.worked_under_access_exclusive = False
    state.enum_values_in_transaction = {}
    state.truncated = set()


def begin_block(state: MigrationState) -> bool:
    """A DO block runs its statements in one transaction: the open one, else one of its
    own. True when it opens its own, which `end_block` commits."""
    if state.in_transaction:
        return False
    state.implicit_transaction = True
    _begin_transaction(state)
    return True


def end_block(state: MigrationState, opened: bool) -> None:
    if opened:
        _end_transaction(state, committed=True)


def _begin_transaction(state: MigrationState) -> None:
    state._saved_session = {k: t.session for k, t in state.timeouts.items()}
    _clear_transaction_facts(state)


def _end_transaction(state: MigrationState, committed: bool) -> None:
    for name, timeouts in state.timeouts.items():
        if not committed and name in state._saved_session:
            timeouts.session = state._saved_session[name]
        timeouts.local, timeouts.local_set = None, False
    _clear_transaction_facts(state)
    state.explicit_transaction = False
    state.tool_transaction = False
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
        _timeout_set(state, target)


def _timeout_set(state: MigrationState, name: str) -> None:
    """A timeout was set (to anything): a later stretch without one is reported anew."""
    if name == "lock_timeout":
        state.queued_without_lock_timeout.clear()
    elif name == "statement_timeout":
        state.long_operation_without_statement_timeout = False


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
        _timeout_set(state, name)


# --- objects --------------------------------------------------------------------


def _create_table(state: MigrationState, node: ast.CreateStmt) -> None:
    table = relation_name(node.relation)
    if node.if_not_exists and state.schema.is_shared_table(table):
        return  # it exists already (the model knows it): nothing is created
    state.created_tables.add(table)
    for element in node.tableElts or ():
        if isinstance(element, ast.Constraint):
            _add_constraint(state, table, element)


def _create_table_as(state: MigrationState, node: ast.CreateTableAsStmt) -> None:
    if node.into is not None:
        state.created_tables.add(relation_name(node.into.rel))
        if node.objtype == ObjectType.OBJECT_MATVIEW:
            state.created_views.add(relation_name(node.into.rel))


def _create_view(state: MigrationState, node: ast.ViewStmt) -> None:
    state.created_views.add(relation_name(node.view))


# From PostgreSQL 18 a label added to a type created in the same transaction can be used
# at once (measured: 15 refuses it, 18 allows it).
NEW_TYPE_LABELS_USABLE_FROM = 18


def _alter_enum(state: MigrationState, node: ast.AlterEnumStmt) -> None:
    """A label added inside a transaction cannot be used before it commits."""
    type_ = last_name(node.typeName)
    if not node.newVal or node.oldVal is not None or not state.in_transaction:
        return
    if state.pg_version >= NEW_TYPE_LABELS_USABLE_FROM and type_ in state.created_types:
        return
    state.enum_values_in_transaction[node.newVal] = type_


def _create_index(state: MigrationState, node: ast.IndexStmt) -> None:
    if node.idxname:
        state.created_indexes.add(node.idxname)


def _create_type(state: MigrationState, node: ast.Node) -> None:
    # CREATE DOMAIN's typeName is its base type; its own name is domainname.
    names = (
        getattr(node, "domainname", None)
        or getattr(node, "typeName", None)
        or getattr(node, "typevar", None)
    )
    if isinstance(names, ast.RangeVar):
        state.created_types.add(relation_name(names))
    elif isinstance(names, tuple):
        state.created_types.add(last_name(names))


_RENAMED_OBJECTS = {
    ObjectType.OBJECT_TYPE,
    ObjectType.OBJECT_DOMAIN,
    ObjectType.OBJECT_FUNCTION,
    ObjectType.OBJECT_PROCEDURE,
    ObjectType.OBJECT_ROUTINE,
    ObjectType.OBJECT_VIEW,
    ObjectType.OBJECT_MATVIEW,
}


def _rename(state: MigrationState, node: ast.RenameStmt) -> None:
    if node.renameType in _RENAMED_OBJECTS and node.newname:
        state.renamed_in_file.add(node.newname)
    if node.renameType == ObjectType.OBJECT_TYPE and node.newname:
        old = last_name(node.object) if isinstance(node.object, tuple) else ""
        state.type_renamed_from[node.newname] = state.type_renamed_from.get(old, old)
    if node.renameType == ObjectType.OBJECT_COLUMN and node.subname and node.newname:
        # a column this file added keeps being unknown to the running version, unless it
        # takes the name of a column the running version knows (dropped earlier here)
        table = relation_name(node.relation)
        if (table, node.subname) in state.added_columns:
            if (table, node.newname) in state.dropped_columns:
                state.added_columns.discard((table, node.newname))
            else:
                state.added_columns.add((table, node.newname))
    if node.renameType == ObjectType.OBJECT_TABLE and node.newname:
        old = relation_name(node.relation)
        if old in state.created_tables:
            state.created_tables.add(node.newname)
        # The transaction's facts about the table follow it to its new name.
        for held in (state.access_exclusive, state.access_exclusive_traffic, state.truncated):
            if old in held:
                held.add(node.newname)
        if old in state.ddl_locks:
            state.ddl_locks[node.newname] = state.ddl_locks[old]


def _drop(state: MigrationState, node: ast.DropStmt) -> None:
    if node.removeType == ObjectType.OBJECT_TABLE:
        for obj in node.objects or ():
            table = last_name(obj)
            state.created_tables.discard(table)
            state.truncated.discard(table)
            state.released_trigger_functions |= state.schema.trigger_functions(table)
    elif node.removeType == ObjectType.OBJECT_TRIGGER:
        for obj in node.objects or ():
            names = strings(obj)
            function = state.schema.triggers.get((names[-2], names[-1])) if len(names) > 1 else None
            if function is not None:
                state.released_trigger_functions.add(function)
    elif node.removeType in (ObjectType.OBJECT_VIEW, ObjectType.OBJECT_MATVIEW):
        for obj in node.objects or ():
            state.created_views.discard(last_name(obj))


def _add_constraint(state: MigrationState, table: str, con: ast.Constraint) -> None:
    """Constraints added NOT VALID in the open transaction (validation must wait)."""
    if con.skip_validation and con.contype in (ConstrType.CONSTR_CHECK, ConstrType.CONSTR_FOREIGN):
        state.not_valid_in_transaction.add((table, con.conname or f"{table}_check"))


def _alter_table(state: MigrationState, node: ast.AlterTableStmt) -> None:
    table = relation_name(node.relation)
    if node.objtype != ObjectType.OBJECT_TABLE:
        return
    for cmd in node.cmds or ():
        subtype = cmd.subtype
        if subtype == AlterTableType.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
            _add_constraint(state, table, cmd.def_)
        elif (
            subtype == AlterTableType.AT_DropColumn
            and cmd.name
            and table not in state.created_tables
            and (table, cmd.name) not in state.added_columns
        ):
            state.dropped_columns.add((table, cmd.name))
        elif (
            subtype == AlterTableType.AT_AddColumn
            and isinstance(cmd.def_, ast.ColumnDef)
            and cmd.def_.colname
            and table not in state.created_tables
        ):
            if (table, cmd.def_.colname) not in state.dropped_columns:
                state.added_columns.add((table, cmd.def_.colname))
            if state.in_transaction and not_null_without_value(cmd.def_):
                # the statement fails unless the table is empty, and its lock keeps it so
                state.truncated.add(table)


def _truncate(state: MigrationState, node: ast.TruncateStmt) -> None:
    if state.in_transaction:
        state.truncated.update(relation_name(r) for r in node.relations or ())


def _insert(state: MigrationState, node: ast.InsertStmt) -> None:
    """Rows from a query can be any number: the table is no longer known to be empty."""
    select = node.selectStmt
    if not (isinstance(select, ast.SelectStmt) and select.valuesLists):
        state.truncated.discard(relation_name(node.relation))


def _copy(state: MigrationState, node: ast.CopyStmt) -> None:
    if node.is_from and node.relation is not None:
        state.truncated.discard(relation_name(node.relation))


_HANDLERS: dict[type, Callable[[MigrationState, Any], None]] = {
    ast.TransactionStmt: _transaction,
    ast.VariableSetStmt: _set,
    ast.SelectStmt: _select,
    ast.CreateStmt: _create_table,
    ast.CreateTableAsStmt: _create_table_as,
    ast.ViewStmt: _create_view,
    ast.AlterEnumStmt: _alter_enum,
    ast.IndexStmt: _create_index,
    ast.CreateEnumStmt: _create_type,
    ast.CompositeTypeStmt: _create_type,
    ast.CreateDomainStmt: _create_type,
    ast.RenameStmt: _rename,
    ast.DropStmt: _drop,
    ast.AlterTableStmt: _alter_table,
    ast.TruncateStmt: _truncate,
    ast.InsertStmt: _insert,
    ast.CopyStmt: _copy,
}
