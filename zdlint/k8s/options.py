"""The `[tool.zdlint.k8s]` config table, validated here so config.py need not know it."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from zdlint.config import ConfigError
from zdlint.versions import DEFAULT_K8S_VERSION

DEFAULT_DRAIN_SECONDS = 10


@dataclass(frozen=True)
class K8sOptions:
    # How long the application takes to boot, when every workload shares one figure;
    # the `zdlint.io/boot-seconds` annotation overrides it per workload.
    boot_seconds: int | None = None
    # Time the application needs after SIGTERM to finish in-flight requests: the grace
    # period must exceed the preStop sleep plus this.
    drain_seconds: int = DEFAULT_DRAIN_SECONDS
    # The Kubernetes release the manifests are applied to (`k8s-version` in [tool.zdlint]).
    k8s_version: tuple[int, int] = DEFAULT_K8S_VERSION


_KEYS = {"boot-seconds": "boot_seconds", "drain-seconds": "drain_seconds"}


def k8s_options(
    table: dict[str, Any],
    where: str = "[tool.zdlint.k8s]",
    k8s_version: tuple[int, int] = DEFAULT_K8S_VERSION,
) -> K8sOptions:
    """Options from the config table; ConfigError names the key that is wrong."""
    values: dict[str, int] = {}
    for key, value in table.items():
        if key not in _KEYS:
            close = difflib.get_close_matches(str(key).replace("_", "-"), _KEYS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            known = ", ".join(_KEYS)
            raise ConfigError(f"{where}: unknown key {key!r}{hint} (known keys: {known})")
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f"{where}: {key} must be a whole number of seconds, not {value!r}")
        values[_KEYS[key]] = value
    return K8sOptions(**values, k8s_version=k8s_version)


def validate_k8s_table(table: dict[str, Any], where: str) -> dict[str, Any]:
    """For config loading: raise ConfigError early, keep the table as it is."""
    k8s_options(table, where)
    return table
