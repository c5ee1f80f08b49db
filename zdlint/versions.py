"""PostgreSQL versions zdlint gives advice for (a light module: no parser imports)."""

from __future__ import annotations

DEFAULT_PG_VERSION = 15
SUPPORTED_PG_VERSIONS = range(11, 19)
