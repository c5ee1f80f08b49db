"""Is an UPDATE/DELETE bounded to one batch, or does it touch the whole table at once?

A statement counts as batched when its WHERE clause has, at the top level (ANDed):
- a sub-select with a LIMIT (`id IN (SELECT id … LIMIT 1000)`, `= ANY(ARRAY(… LIMIT n))`),
- a key range (`id BETWEEN a AND b`, or both a lower and an upper bound on one column),
- a point lookup on a key (`id = $1`, `id IN (1, 2, 3)`), or `WHERE CURRENT OF`.
"""

from __future__ import annotations

from pglast import ast
from pglast.enums import A_Expr_Kind, BoolExprType

from zdlint.sql.names import strings, walk

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


def _column(node: object) -> str | None:
    if isinstance(node, ast.ColumnRef):
        names = strings(node.fields)
        return names[-1].lower() if names else None
    if isinstance(node, ast.TypeCast):
        return _column(node.arg)
    return None


def _is_key_name(column: str) -> bool:
    return column == "id" or column.endswith("_id") or column == "ctid"


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


def is_batched(where: object) -> bool:
    if isinstance(where, ast.CurrentOfExpr):
        return True
    lower: set[str] = set()
    upper: set[str] = set()
    for part in conjuncts(where):
        if _limited_subselect(part):
            return True
        if not isinstance(part, ast.A_Expr):
            continue
        if part.kind in (A_Expr_Kind.AEXPR_BETWEEN, A_Expr_Kind.AEXPR_BETWEEN_SYM):
            if _column(part.lexpr):
                return True
        op = _operator(part)
        left, right = _column(part.lexpr), _column(part.rexpr)
        if part.kind == A_Expr_Kind.AEXPR_OP and op == "=":
            key = left if left and not right else right if right and not left else None
            if key and _is_key_name(key):
                return True
        if part.kind == A_Expr_Kind.AEXPR_IN and left and _is_key_name(left):
            if isinstance(part.rexpr, tuple):
                return True
        if part.kind == A_Expr_Kind.AEXPR_OP and op in _FLIPPED:
            if left and not right:
                (lower if op in _LOWER else upper).add(left)
            elif right and not left:
                (lower if _FLIPPED[op] in _LOWER else upper).add(right)
    return bool(lower & upper)
