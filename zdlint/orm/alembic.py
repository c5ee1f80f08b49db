"""Alembic revisions rendered to the SQL they run on PostgreSQL, without a database.

The revision's `upgrade()` runs in-process in Alembic's offline (`--sql`) mode, against a
MigrationContext built here for the postgresql dialect; every statement Alembic emits is
captured with the line of the `op.xxx(...)` call in the revision that produced it.

The user's env.py is not run: it is written for `alembic upgrade` (it reads alembic.ini,
sets up logging, may create an engine and connect, and runs every revision of the chain),
so running it to render one file would execute project code whose effects the linter
cannot bound. The one env.py setting that changes what a single revision runs,
`context.configure(transactional_ddl=False)`, is read from env.py's syntax instead.

Alembic's transaction on PostgreSQL: every revision runs inside a transaction (the whole
run's, or its own with `transaction_per_migration`), so a rendered revision is atomic;
statements inside `op.get_context().autocommit_block()` run after that transaction is
committed and before the next one begins (`transactional` False). A `SET LOCAL` therefore
lasts until the end of the migration or the next autocommit block, whichever comes first:
consecutive transactional statements separated by non-transactional ones belong to
different transactions.
"""

from __future__ import annotations

import ast
import configparser
import contextlib
import importlib.util
import io
import os
import re
import sys
import types
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zdlint.orm.rendered import RenderedMigration, RenderedStatement

_REVISION = re.compile(r"^revision\s*(?::[^=\n]*)?=", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision\s*(?::[^=\n]*)?=", re.MULTILINE)
_UPGRADE = re.compile(r"^def\s+upgrade\s*\(", re.MULTILINE)

_QUERY_NEEDS_CONNECTION = (
    "needs a database connection: op.get_bind() runs a query on the live database; offline "
    "it returns no rows, so what upgrade() does with its result is not checked"
)


def is_alembic_revision(text: str, path: Path) -> bool:
    """A module with module-level `revision` and `down_revision` and a `def upgrade(`."""
    return (
        path.suffix == ".py"
        and _REVISION.search(text) is not None
        and _DOWN_REVISION.search(text) is not None
        and _UPGRADE.search(text) is not None
    )


def render_alembic(path: Path, text: str) -> RenderedMigration:
    """Render the revision's `upgrade()` for PostgreSQL, each statement on its op's line.

    What cannot be rendered offline (an import or an op that fails, a query through
    `op.get_bind()`) becomes a problem on its line; statements rendered before a failure
    are kept.
    """
    transactional_ddl = _env_transactional_ddl(path)
    recorder = _Recorder(str(path), _call_end_lines(text), transactional_ddl)
    result = RenderedMigration(atomic=transactional_ddl)
    if importlib.util.find_spec("alembic") is None:
        result.problems.append((1, "Alembic is not installed: pip install 'zdlint[alembic]'"))
        return result
    try:
        # dont_inherit: the revision runs under its own `from __future__` imports, not ours.
        code = compile(text, recorder.filename, "exec", dont_inherit=True)
    except SyntaxError as exc:
        result.problems.append((exc.lineno or 1, f"the revision does not compile: {exc.msg}"))
        return result
    # What the revision prints or warns would mix with the linter's own output.
    with (
        _offline_operations(recorder),
        _project_importable(path),
        contextlib.redirect_stdout(io.StringIO()),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")
        module = types.ModuleType(f"zdlint_alembic_revision_{id(recorder)}")
        module.__file__ = recorder.filename
        sys.modules[module.__name__] = module
        importing = True
        try:
            exec(code, module.__dict__)
            importing = False
            upgrade = module.__dict__.get("upgrade")
            if callable(upgrade):
                upgrade()
            else:
                recorder.problem(1, "the revision defines no upgrade() function")
        except Exception as exc:  # the revision is user code: any failure is a finding
            line = recorder.failing_line(exc)
            recorder.problem(line, recorder.failure_message(exc, importing), stops=True)
        finally:
            del sys.modules[module.__name__]
    result.statements = recorder.statements
    result.problems = recorder.problems
    return result


_SPACE_COMMA_COLON = re.compile(r"[ ,:]+")
_SEPARATORS = {"os": os.pathsep, "space": " ", "newline": "\n", ":": ":", ";": ";"}


def _prepend_sys_path(revision: Path) -> list[str]:
    """The folders the nearest alembic.ini puts on sys.path (`prepend_sys_path`).

    `alembic upgrade` runs the revisions with them importable, so a revision's
    `from app.models import ...` works there; relative entries are read from the ini's
    folder, where alembic is run.
    """
    ini = next((d / "alembic.ini" for d in revision.parents if (d / "alembic.ini").is_file()), None)
    if ini is None:
        return []
    parser = configparser.ConfigParser(defaults={"here": str(ini.parent)})
    try:
        parser.read(ini, encoding="utf-8")
        value = parser.get("alembic", "prepend_sys_path", fallback="")
        separator = parser.get("alembic", "path_separator", fallback="")
    except (configparser.Error, UnicodeDecodeError):
        return []
    if separator in _SEPARATORS:
        entries = value.split(_SEPARATORS[separator])
    else:
        entries = _SPACE_COMMA_COLON.split(value)
    return [str(ini.parent / entry.strip()) for entry in entries if entry.strip()]


@contextlib.contextmanager
def _project_importable(revision: Path) -> Iterator[None]:
    """sys.path as `alembic upgrade` has it for this revision, restored after."""
    saved = list(sys.path)
    sys.path[:0] = _prepend_sys_path(revision)
    try:
        yield
    finally:
        sys.path[:] = saved


def _env_transactional_ddl(path: Path) -> bool:
    """False when the env.py beside the `versions/` folder turns transactional DDL off."""
    env = path.parent.parent / "env.py"
    try:
        tree = ast.parse(env.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return True
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr != "configure":
            continue
        for keyword in node.keywords:
            value = keyword.value
            if (
                keyword.arg == "transactional_ddl"
                and isinstance(value, ast.Constant)
                and value.value is False
            ):
                return False
    return True


def _call_end_lines(text: str) -> dict[int, int]:
    """Line → last line of the outermost call expression that starts on it."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return {}
    ends: dict[int, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.end_lineno is not None:
            ends[node.lineno] = max(ends.get(node.lineno, node.lineno), node.end_lineno)
    return ends


@dataclass(frozen=True)
class _Span:
    line: int
    end_line: int


class _Recorder:
    """Collects what the revision emits, each statement with the span of its op call."""

    def __init__(self, filename: str, call_ends: dict[int, int], transactional: bool):
        self.filename = filename
        self.call_ends = call_ends
        self.transactional = transactional
        self.statements: list[RenderedStatement] = []
        self.problems: list[tuple[int, str]] = []
        # While a batch_alter_table block flushes, the span of the batch op being applied.
        self.batch_span: _Span | None = None

    def caller_span(self) -> _Span:
        """The span of the innermost call in the revision file on the current stack."""
        frame = sys._getframe(1)
        while frame is not None and frame.f_code.co_filename != self.filename:
            frame = frame.f_back  # type: ignore[assignment]
        if frame is None:
            return _Span(1, 1)
        line = frame.f_lineno
        return _Span(line, self.call_ends.get(line, line))

    def emit(self, text: str) -> None:
        """Alembic's static output: one statement, terminated by `;`."""
        # Alembic's terminator, and the revision's own when its SQL string ends with one.
        sql = text.strip()
        while sql.endswith(";"):
            sql = sql[:-1].rstrip()
        if not sql:
            return
        span = self.batch_span or self.caller_span()
        self.statements.append(RenderedStatement(sql, span.line, span.end_line, self.transactional))

    def problem(self, line: int, message: str, *, stops: bool = False) -> None:
        """Record one problem a line; the one that stopped rendering replaces the other."""
        for index, (known_line, _) in enumerate(self.problems):
            if known_line == line:
                if stops:
                    self.problems[index] = (line, message)
                return
        self.problems.append((line, message))

    def failing_line(self, exc: BaseException) -> int:
        """The last line of the revision file in the exception's traceback."""
        if isinstance(exc, SyntaxError) and exc.filename == self.filename and exc.lineno:
            return exc.lineno
        line = None
        tb = exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == self.filename:
                line = tb.tb_lineno
            tb = tb.tb_next
        return line or self.caller_span().line

    def failure_message(self, exc: BaseException, importing: bool) -> str:
        cause: BaseException | None = exc
        while cause is not None and not isinstance(cause, _NeedsConnection):
            cause = cause.__cause__ or cause.__context__
        if cause is not None:
            return f"{cause}; the rest of upgrade() is not checked"
        if type(exc).__name__ == "NoInspectionAvailable" and _OfflineBind.__name__ in str(exc):
            return (
                "needs a database connection: sa.inspect(op.get_bind()) reads the live "
                "schema; the rest of upgrade() is not checked"
            )
        reason = f"{type(exc).__name__}: {exc}".strip().splitlines()[0]
        if importing:
            return f"could not import the revision offline: {reason}"
        return f"could not render offline: {reason}; the rest of upgrade() is not checked"


def _typed_literals(statement: Any) -> Any:
    """The statement with each untyped bind parameter typed from its value.

    Data migrations describe tables loosely (`sa.table("jobs", sa.column("status"))`);
    SQLAlchemy has no literal rendering for an untyped value, the database infers it.
    """
    from sqlalchemy import literal
    from sqlalchemy.sql import visitors
    from sqlalchemy.sql.elements import BindParameter

    if isinstance(statement, str):
        return statement

    def typed(element: Any, **kw: Any) -> Any:
        if not isinstance(element, BindParameter) or not element.type._isnull:
            return None
        value = element.value
        sample = value[0] if element.expanding and value else value
        if sample is None:
            return None
        clone = element._clone()
        clone.type = literal(sample).type
        return clone

    return visitors.replacement_traverse(statement, {}, typed)


def _require_values(statement: Any, dialect: Any) -> None:
    """Refuse a statement with a bind parameter that has no value.

    With literal_binds SQLAlchemy renders such a parameter as NULL, which would hand the
    rules a statement the migration never runs.
    """
    if isinstance(statement, str) or not hasattr(statement, "compile"):
        return
    # DDL compiles without bind parameters.
    binds = getattr(statement.compile(dialect=dialect), "binds", {})
    missing = sorted(name for name, bind in binds.items() if bind.required)
    if missing:
        names = ", ".join(f":{name}" for name in missing)
        raise ValueError(f"bind parameter {names} has no value offline")


class _NeedsConnection(AttributeError):
    """A use of `op.get_bind()` that only a live connection can answer."""

    def __init__(self, what: str):
        super().__init__(f"needs a database connection: {what}")


class _NoRows:
    """The result of a query run offline: it has no rows."""

    rowcount = 0

    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def fetchall(self) -> list[Any]:
        return []

    all = fetchall

    def fetchmany(self, size: int | None = None) -> list[Any]:
        return []

    def fetchone(self) -> None:
        return None

    first = fetchone
    scalar = fetchone
    one_or_none = fetchone
    scalar_one_or_none = fetchone

    def scalars(self) -> _NoRows:
        return self

    mappings = scalars

    def keys(self) -> list[str]:
        return []

    def __getattr__(self, name: str) -> Any:
        # .one(), .scalar_one(), ...: an answer that needs the live rows.
        if name.startswith("_"):
            raise AttributeError(name)
        raise _NeedsConnection(f"the result of op.get_bind().execute() has no .{name} offline")


class _OfflineBind:
    """What `op.get_bind()` returns offline: the dialect, and queries that return no rows.

    A statement it executes is rendered like any op (it runs in the migration's
    transaction), and its line gets a problem: the data it reads is not there offline.
    """

    def __init__(self, recorder: _Recorder, dialect: Any):
        self._recorder = recorder
        self.dialect = dialect
        # `bind.engine.dialect.name`, `bind.engine.name`: the same answers offline.
        self.engine = self
        self.name = dialect.name

    def _query_needs_connection(self) -> None:
        self._recorder.problem(self._recorder.caller_span().line, _QUERY_NEEDS_CONNECTION)

    def _cannot(self, what: str) -> _NeedsConnection:
        """The exception to raise, recorded now in case the revision catches it."""
        exc = _NeedsConnection(what)
        self._recorder.problem(self._recorder.caller_span().line, str(exc))
        return exc

    def execute(self, statement: Any, parameters: Any = None, *args: Any, **kw: Any) -> _NoRows:
        self._query_needs_connection()
        if isinstance(statement, str):
            # SQLAlchemy 1.x let a bind execute a plain string.
            self._recorder.emit(statement)
            return _NoRows()
        rows = parameters if isinstance(parameters, (list, tuple)) else [parameters or {}]
        for row in rows:
            if row:
                # bindparams() types a text() parameter from its value; params() would
                # leave it untyped, and untyped values have no literal rendering.
                bound = getattr(statement, "bindparams", statement.params)
                statement = bound(**row)
            statement = _typed_literals(statement)
            _require_values(statement, self.dialect)
            compiled = statement.compile(
                dialect=self.dialect, compile_kwargs={"literal_binds": True}
            )
            self._recorder.emit(str(compiled))
        return _NoRows()

    def exec_driver_sql(self, statement: str, parameters: Any = None, *a: Any) -> _NoRows:
        if parameters:
            raise self._cannot("op.get_bind().exec_driver_sql() with parameters")
        self._query_needs_connection()
        self._recorder.emit(statement)
        return _NoRows()

    def scalar(self, statement: Any, parameters: Any = None, *args: Any, **kw: Any) -> None:
        self.execute(statement, parameters)
        return None

    def scalars(self, statement: Any, parameters: Any = None, *args: Any, **kw: Any) -> _NoRows:
        return self.execute(statement, parameters)

    def __getattr__(self, name: str) -> Any:
        # An AttributeError, so that SQLAlchemy's probing with getattr()/hasattr() works.
        if name.startswith("_"):
            # A library probing the object (sa.inspect() looks for _sa_instance_state).
            raise AttributeError(name)
        raise self._cannot(f"op.get_bind().{name} is not available offline")


@contextlib.contextmanager
def _offline_operations(recorder: _Recorder) -> Iterator[None]:
    """Alembic's `op` and `context` proxies bound to an offline postgresql context."""
    import sqlalchemy
    from alembic.config import Config
    from alembic.operations import Operations
    from alembic.runtime.environment import EnvironmentContext
    from alembic.runtime.migration import MigrationContext

    class _LineRecordingBatch(list):  # type: ignore[type-arg]
        """A batch_alter_table op list that keeps each op's line for when it is applied."""

        def __init__(self) -> None:
            super().__init__()
            self.spans: list[_Span] = []

        def append(self, item: Any) -> None:
            self.spans.append(recorder.caller_span())
            super().append(item)

        def __iter__(self) -> Iterator[Any]:
            for index, item in enumerate(list.__iter__(self)):
                recorder.batch_span = self.spans[index]
                yield item
            recorder.batch_span = None

    def get_bind() -> Any:
        return _OfflineBind(recorder, context.dialect)

    @contextlib.contextmanager
    def batch_alter_table(*args: Any, **kw: Any) -> Iterator[Any]:
        try:
            with Operations.batch_alter_table(operations, *args, **kw) as batch_op:
                batch_op.impl.batch = _LineRecordingBatch()
                yield batch_op
        finally:
            recorder.batch_span = None

    context = MigrationContext.configure(
        dialect_name="postgresql",
        # As Alembic's env.py template does offline: with the driver's "pyformat" style a
        # literal % would be rendered doubled.
        dialect_opts={"paramstyle": "named"},
        opts={
            "as_sql": True,
            "literal_binds": True,
            "transactional_ddl": recorder.transactional,
        },
    )
    impl: Any = context.impl
    impl.static_output = recorder.emit
    alembic_exec = impl._exec

    def exec_with_values(construct: Any, *args: Any, **kw: Any) -> Any:
        if isinstance(construct, str):
            construct = sqlalchemy.text(construct)
        construct = _typed_literals(construct)
        _require_values(construct, context.dialect)
        return alembic_exec(construct, *args, **kw)

    impl._exec = exec_with_values

    def leave_transaction() -> None:
        recorder.transactional = False

    def enter_transaction() -> None:
        recorder.transactional = True

    # As_sql, Alembic emits COMMIT/BEGIN only around an autocommit_block(): they are the
    # boundaries of its transaction, not statements of the revision.
    impl.emit_commit = leave_transaction
    impl.emit_begin = enter_transaction
    operations = Operations(context)
    # Instance attributes: Alembic's `op` proxy takes each name from the instance.
    operations.get_bind = get_bind  # type: ignore[method-assign]
    operations.batch_alter_table = batch_alter_table  # type: ignore[method-assign]
    environment = EnvironmentContext(Config(), None, as_sql=True)  # type: ignore[arg-type]
    environment._migration_context = context
    environment.get_bind = get_bind  # type: ignore[method-assign]
    operations._install_proxy()
    environment._install_proxy()
    try:
        yield
    finally:
        environment._remove_proxy()
        operations._remove_proxy()
