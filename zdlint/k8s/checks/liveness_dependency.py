"""ZK104: a livenessProbe that checks another service restarts every pod when it is down."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator

from zdlint.k8s.checks import Flag, flag
from zdlint.k8s.graph import Scope
from zdlint.k8s.options import K8sOptions
from zdlint.k8s.probes import Probe, probe

# Clients whose only job is to reach a server; `-h`/`--host` or a URL names which.
_CLIENTS = {
    "pg_isready", "psql", "mysql", "mysqladmin", "redis-cli", "mongo", "mongosh", "cqlsh",
    "curl", "wget", "nc", "grpc_health_probe", "kafka-broker-api-versions",
}  # fmt: skip
_HOST_OPTION = re.compile(r"^(?:-h|--host|-H|--hostname|-addr|--addr|-connect)(?:=(.+))?$")
_URL_HOST = re.compile(r"^[a-z][a-z0-9+.-]*://(?:[^@/]*@)?(\[[^\]]+\]|[^:/?#]+)", re.I)
_CONNINFO_HOST = re.compile(r"\bhost=([^\s]+)")
_LOCAL = re.compile(
    r"^(?:localhost|127(?:\.\d+){3}|::1|\[::1\]|0\.0\.0\.0|\$\(?\{?(?:HOSTNAME|POD_IP|MY_POD_IP"
    r"|HOST_IP)\}?\)?|\$\(hostname(?: -i)?\))$",
    re.I,
)
# By convention a readiness endpoint checks the dependencies; liveness must not.
_READINESS_PATH = re.compile(r"(?:^|/)(?:ready|readyz|readiness)(?:$|[/?])", re.I)


def check(scope: Scope, options: K8sOptions) -> Iterator[Flag]:
    for workload in scope.workloads:
        for container in workload.template.containers:
            liveness = probe(container, "livenessProbe")
            if liveness is None:
                continue
            target = dependency_of(liveness)
            if target is not None:
                yield flag(
                    workload.obj,
                    workload.template.container_span(container, "livenessProbe"),
                    object=workload.obj.ref,
                    container=container.name,
                    target=target,
                )


def dependency_of(liveness: Probe) -> str | None:
    """What else the probe depends on, described; None when it checks only itself."""
    if liveness.handler_field == "httpGet":
        path = str(liveness.spec["httpGet"].get("path") or "")
        if _READINESS_PATH.search(path):
            return f"the readiness endpoint `{path}`"
        return None
    if liveness.handler_field != "exec":
        return None
    command = liveness.spec["exec"].get("command")
    if not isinstance(command, list):
        return None
    words = _words([str(w) for w in command])
    for i, word in enumerate(words):
        if word.rsplit("/", 1)[-1] not in _CLIENTS:
            continue
        host = _remote_host(words[i + 1 :])
        if host is not None:
            return f"`{word.rsplit('/', 1)[-1]}` against {host}"
    return None


def _words(command: list[str]) -> list[str]:
    """The words of an exec command, looking inside `sh -c "…"` scripts."""
    words: list[str] = []
    for part in command:
        if " " in part:
            try:
                words.extend(shlex.split(part))
            except ValueError:
                words.extend(part.split())
        else:
            words.append(part)
    return words


def _remote_host(arguments: list[str]) -> str | None:
    for i, argument in enumerate(arguments):
        if argument in ("&&", "||", ";", "|"):
            break
        option = _HOST_OPTION.match(argument)
        host = None
        if option:
            host = option.group(1) or (arguments[i + 1] if i + 1 < len(arguments) else None)
        elif url := _URL_HOST.match(argument):
            host = url.group(1)
        elif conninfo := _CONNINFO_HOST.search(argument):
            host = conninfo.group(1)
        if host and not _LOCAL.match(host):
            return f"`{host}`"
    return None


CHECKS = [("ZK104", check)]
