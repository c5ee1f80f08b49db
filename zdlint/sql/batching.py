"""Is an UPDATE/DELETE bounded to one batch, or does it touch the whole table at once?

A statement counts as batched when its WHERE clause has, at the top level (ANDed):
- a sub-select with a LIMIT (`id IN (SELECT id … LIMIT 1000)`, `= ANY(ARRAY(… LIMIT n))`),
- a key range (`id BETWEEN a AND b`, or both a lower and an upper bound on one column),
- a key lookup: every column of the table's primary key, of a unique constraint or of a
  complete unique index pinned to a value (`id = $1`, `code IN ('a', 'b')`,
  `id = ANY($1)`), or `ctid = …`; when the schema model has not seen the table created,
  a column named like a key (`id`, `…_id`) stands in for its keys,
- inside a PL/pgSQL loop, a column compared with a PL/pgSQL variable (`id = rec.id`): one
  iteration's rows,
- or it is `WHERE CURRENT OF` a cursor.
"""

from __future__ import annotations

from pglast import ast
from pglast.enums import A_Expr_Kind, BoolExprType

from zdlint.sql.names import relation_name, strings, walk
from zdlint.sql.plpgsql import EmbeddedQuery
from zdlint.sql.schema import SchemaModel

_LOWER = {">", ">="}
_UPPER = {"<", "<="}
_FLIPPED = {">": "<", ">=": "<=", "<": ">", "<=": ">="}


def conjuncts(where: object) -> list[object]:
    """Flatten top-level ANDs."""
    if isinstance(where, ast.BoolExpr) and where.boolop == BoolExprType.AND_EXPR:
        out: list[object] = []
        for arg in where.args or ():
            out.extend(conjuncts(arg))
        return out
    return [where] if where is not None else []


class _Where:
    """The names a WHERE clause can use for the changed table and for PL/pgSQL variables."""

    def __init__(self, relation: ast.RangeVar | None, variables: frozenset[str]) -> None:
        self.tables = {relation.relname or ""} if relation is not None else set()
        if relation is not None and relation.alias is not None and relation.alias.aliasname:
            self.tables = {relation.alias.aliasname}  # an alias hides the table's name
        self.variables = variables

    def column(self, node: object) -> str | None:
        """The changed table's column `node` names (through casts), else None."""
        if isinstance(node, ast.TypeCast):
            return self.column(node.arg)
        if not isinstance(node, ast.ColumnRef):
            return None
        names = strings(node.fields)
        if len(names) != len(node.fields or ()) or not names:
            return None  # `t.*`
        if len(names) == 1:
            return None if names[0] in self.variables else names[0]
        return names[-1] if names[-2] in self.tables else None

    def is_value(self, node: object) -> bool:
        """One value for the whole statement: constants, parameters, PL/pgSQL variables and
        functions of them; no column of any table, no sub-select."""
        return not any(
            isinstance(part, ast.SubLink)
            or (isinstance(part, ast.ColumnRef) and not self._is_variable(part))
            for part in walk(node)
        )

    def uses_variable(self, node: object) -> bool:
        return any(
            isinstance(part, ast.ColumnRef) and self._is_variable(part) for part in walk(node)
        )

    def _is_variable(self, ref: ast.ColumnRef) -> bool:
        names = strings(ref.fields)
        return bool(names) and names[0] in self.variables


def _limited_subselect(node: object) -> bool:
    return any(
        isinstance(sub, ast.SubLink)
        and isinstance(sub.subselect, ast.SelectStmt)
        and sub.subselect.limitCount is not None
        for sub in walk(node)
    )


def _operator(expr: ast.A_Expr) -> str:
    names = strings(expr.name)
    return names[-1] if names else ""


def _is_key_name(column: str) -> bool:
    return column == "id" or column.endswith("_id")


def is_batched(
    node: ast.UpdateStmt | ast.DeleteStmt, schema: SchemaModel, query: EmbeddedQuery | None = None
) -> bool:
    """Whether `node` changes one bounded batch of rows of its table (see the module doc)."""
    where = node.whereClause
    if isinstance(where, ast.CurrentOfExpr):
        return True
    names = _Where(node.relation, query.variables if query else frozenset())
    in_loop = query is not None and query.in_loop
    pinned: set[str] = set()
    lower: set[str] = set()
    upper: set[str] = set()
    for part in conjuncts(where):
        if _limited_subselect(part):
            return True
        if not isinstance(part, ast.A_Expr):
            continue
        op = _operator(part)
        left, right = names.column(part.lexpr), names.column(part.rexpr)
        if part.kind in (A_Expr_Kind.AEXPR_BETWEEN, A_Expr_Kind.AEXPR_BETWEEN_SYM) and left:
            return True
        if part.kind == A_Expr_Kind.AEXPR_OP and op == "=":
            for column, other in ((left, part.rexpr), (right, part.lexpr)):
                if column and names.is_value(other):
                    if in_loop and names.uses_variable(other):
                        return True  # one loop iteration's rows
                    pinned.add(column)
        elif part.kind == A_Expr_Kind.AEXPR_OP_ANY and op == "=" and left:
            if names.is_value(part.rexpr):
                pinned.add(left)
        elif part.kind == A_Expr_Kind.AEXPR_IN and op == "=" and left:
            if isinstance(part.rexpr, tuple) and all(names.is_value(v) for v in part.rexpr):
                pinned.add(left)
        elif part.kind == A_Expr_Kind.AEXPR_OP and op in _FLIPPED:
            if left and not right:
                (lower if op in _LOWER else upper).add(left)
            elif right and not left:
                (lower if _FLIPPED[op] in _LOWER else upper).add(right)
    if lower & upper or "ctid" in pinned:
        return True
    keys = schema.unique_keys(relation_name(node.relation))
    if keys is None:  # the model has not seen the table created: guess keys by name
        return any(_is_key_name(column) for column in pinned)
    return any(key <= pinned for key in keys)


def is_system_catalog(relation: ast.RangeVar | None, schema: SchemaModel) -> bool:
    """`pg_index` and the like: pg_catalog is searched first, so an unqualified `pg_…`
    name that no migration created is a catalog (a handful of rows about the schema, not
    the application's data): changing it is no backfill."""
    if relation is None:
        return False
    name = relation.relname or ""
    if relation.schemaname is not None:
        return relation.schemaname == "pg_catalog"
    return name.startswith("pg_") and name not in schema.tables
