"""The names PostgreSQL gives constraints and indexes written without one.

`ALTER TABLE t ADD CHECK (a > 0)` creates `t_a_check`; `CREATE INDEX ON t (a, lower(b))`
creates `t_a_expr_idx`. Messages and help name them as the server will (a clash with an
existing name makes the server append a number, which a static reading cannot know).
"""

from __future__ import annotations

from pglast import ast
from pglast.enums import ConstrType

from zdlint.sql.names import relation_name, strings, walk

NAMEDATALEN = 64  # PostgreSQL's identifier buffer: names hold at most 63 bytes

_LABELS = {
    ConstrType.CONSTR_PRIMARY: "pkey",
    ConstrType.CONSTR_UNIQUE: "key",
    ConstrType.CONSTR_EXCLUSION: "excl",
    ConstrType.CONSTR_FOREIGN: "fkey",
    ConstrType.CONSTR_CHECK: "check",
    ConstrType.CONSTR_NOTNULL: "not_null",
}


def object_name(name1: str, name2: str, label: str) -> str:
    """PostgreSQL's makeObjectName: `name1_name2_label`, the longer of name1 and name2 cut
    first so the whole fits in 63 bytes."""
    overhead = (len(label) + 1 if label else 0) + (1 if name2 else 0)
    available = NAMEDATALEN - 1 - overhead
    first, second = name1.encode(), name2.encode()
    keep1, keep2 = len(first), len(second)
    while keep1 + keep2 > available:
        if keep1 > keep2:
            keep1 -= 1
        else:
            keep2 -= 1
    parts = [_clip(first, keep1), _clip(second, keep2) if name2 else "", label]
    return "_".join(p for p in parts if p)


def _clip(name: bytes, length: int) -> str:
    """The first `length` bytes of a UTF-8 name, never splitting a character."""
    return name[:length].decode("utf-8", errors="ignore")


def _addition(columns: list[str]) -> str:
    """ChooseIndexNameAddition / ChooseForeignKeyConstraintNameAddition: the column names
    joined with `_`, no longer than a name can be."""
    out = ""
    for column in columns:
        if out and len(out.encode()) + 1 + len(column.encode()) >= NAMEDATALEN:
            break
        out = f"{out}_{column}" if out else column
    return out


def constraint_name(table: str, con: ast.Constraint, column: str = "") -> str:
    """The constraint's name: the one written, or the one PostgreSQL chooses. `column` is
    the column a column constraint (`email text UNIQUE`) is written on."""
    if con.conname:
        return con.conname
    contype = con.contype
    label = _LABELS.get(contype, "") if contype is not None else ""
    if contype == ConstrType.CONSTR_PRIMARY:
        return object_name(table, "", label)
    if contype == ConstrType.CONSTR_FOREIGN:
        columns = strings(con.fk_attrs) or [column]
    elif contype == ConstrType.CONSTR_CHECK:
        # named after its column only when it references exactly one
        referenced = {
            (strings(n.fields) or [""])[-1]
            for n in walk(con.raw_expr)
            if isinstance(n, ast.ColumnRef)
        } - {""}
        columns = list(referenced) if len(referenced) == 1 else []
    elif contype == ConstrType.CONSTR_EXCLUSION:
        columns = [
            e.name for e, _ in _exclusions(con) if isinstance(e, ast.IndexElem) and e.name
        ] or ["expr"]
    else:
        columns = strings(con.keys) or [column]
    return object_name(table, _addition([c for c in columns if c]), label)


def _exclusions(con: ast.Constraint) -> list[tuple[object, object]]:
    return [(pair[0], pair[1]) for pair in con.exclusions or () if isinstance(pair, tuple)]


def _expression_name(expr: object) -> str:
    """FigureIndexColname: a function call is named after the function, a cast after what
    it casts; any other expression is `expr`."""
    if isinstance(expr, ast.FuncCall):
        return strings(expr.funcname)[-1]
    if isinstance(expr, ast.TypeCast):
        inner = _expression_name(expr.arg)
        if inner != "expr" or isinstance(expr.arg, ast.FuncCall):
            return inner
        return strings(expr.typeName.names)[-1] if expr.typeName is not None else "expr"
    if isinstance(expr, ast.ColumnRef):
        return strings(expr.fields)[-1]
    return "expr"


def index_name(node: ast.IndexStmt) -> str:
    """The index's name: the one written, or the one PostgreSQL chooses
    (`table_col1_col2_idx`, `expr` for each expression; `_key` for a unique one built
    for a constraint, `_pkey` for a primary key)."""
    if node.idxname:
        return node.idxname
    columns = [
        (param.indexcolname or param.name or _expression_name(param.expr))
        if isinstance(param, ast.IndexElem)
        else "expr"
        for param in node.indexParams or ()
    ]
    if node.primary:
        return object_name(relation_name(node.relation), "", "pkey")
    label = "key" if node.isconstraint else "idx"
    return object_name(relation_name(node.relation), _addition(columns), label)
