"""PostgreSQL versions zdlint gives advice for, and the Kubernetes release manifests are
applied to (a light module: no parser imports)."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PG_VERSION = 15
SUPPORTED_PG_VERSIONS = range(11, 19)
# The Kubernetes release checked against when none is configured: a current one.
DEFAULT_K8S_VERSION = (1, 31)


def parse_k8s_release(value: object) -> tuple[int, int] | None:
    """`1.31`, `v1.31` or `1.31.2` as (major, minor); None when it is not one."""
    if isinstance(value, bool) or not isinstance(value, str):
        return None
    parts = value.strip().removeprefix("v").split(".")
    if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
        return None
    return int(parts[0]), int(parts[1])


@dataclass(frozen=True)
class Feature:
    """SQL that PostgreSQL rejects before version `since`, and what to write there instead."""

    name: str
    since: int
    instead: str


REINDEX_CONCURRENTLY = Feature(
    "REINDEX … CONCURRENTLY",
    12,
    "build a replacement index concurrently, drop the old one concurrently and give the new "
    "one its name, each outside a transaction",
)
DETACH_CONCURRENTLY = Feature(
    "DETACH PARTITION … CONCURRENTLY",
    14,
    "detach without CONCURRENTLY in a transaction of its own with a short lock_timeout: it "
    "takes ACCESS EXCLUSIVE on the partitioned table",
)
DETACH_FINALIZE = Feature("DETACH PARTITION … FINALIZE", 14, DETACH_CONCURRENTLY.instead)
STORED_GENERATED_COLUMN = Feature(
    "a generated column (GENERATED ALWAYS AS … STORED)",
    12,
    "add a plain column that a trigger fills on every insert and update",
)
VIRTUAL_GENERATED_COLUMN = Feature(
    "a virtual generated column (GENERATED ALWAYS AS … without STORED)",
    18,
    "write STORED (it rewrites an existing table), or add a plain column that a trigger fills "
    "on every insert and update",
)
NOT_NULL_TABLE_CONSTRAINT = Feature(
    "a named NOT NULL table constraint (ADD CONSTRAINT … NOT NULL column)",
    18,
    "prove the column with a CHECK (column IS NOT NULL) added NOT VALID and validated in a "
    "separate transaction, then make the column NOT NULL",
)
NOT_VALID_FOREIGN_KEY_ON_PARTITIONED_TABLE = Feature(
    "a NOT VALID foreign key on a partitioned table",
    18,
    "add the foreign key NOT VALID to each partition and validate it there, then add it to "
    "the partitioned table: the validated constraints of the partitions are attached "
    "without a scan",
)
FEATURES = (
    REINDEX_CONCURRENTLY,
    DETACH_CONCURRENTLY,
    DETACH_FINALIZE,
    STORED_GENERATED_COLUMN,
    VIRTUAL_GENERATED_COLUMN,
    NOT_NULL_TABLE_CONSTRAINT,
    NOT_VALID_FOREIGN_KEY_ON_PARTITIONED_TABLE,
)
