"""ZK104: a livenessProbe that checks another service restarts every pod when it is down."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator

from zdlint.k8s.checks import Flag, flag
from zdlint.k8s.graph import Scope
from zdlint.k8s.options import K8sOptions
from zdlint.k8s.probes import Probe, probe

# Clients whose only job is to reach a server, and the options that name which server.
# Without such an option (or a URL, a conninfo `host=`, a positional host for nc) each
# of them talks to the local default: `redis-cli ping`, `pg_isready` on the socket.
_HOST_OPTIONS: dict[str, tuple[str, ...]] = {
    "pg_isready": ("-h", "--host"),
    "psql": ("-h", "--host"),
    "mysql": ("-h", "--host"),
    "mysqladmin": ("-h", "--host"),
    "redis-cli": ("-h", "-u"),
    "mongo": ("--host",),
    "mongosh": ("--host",),
    "cqlsh": (),
    "curl": ("--connect-to",),
    "wget": (),
    "nc": (),
    "grpc_health_probe": ("-addr", "--addr", "-connect"),
    "kafka-broker-api-versions": ("--bootstrap-server",),
}
# Clients whose first positional argument is the host (`nc -z db 5432`, `cqlsh db`).
_POSITIONAL_HOST = frozenset({"nc", "cqlsh"})
# Short options of the clients above that take a value, so it is not read as the host.
_VALUED = frozenset({"-p", "-U", "-d", "-t", "-w", "-q", "-a", "-n", "-u", "-P", "-i"})
_URL_HOST = re.compile(r"^[a-z][a-z0-9+.-]*://(?:[^@/]*@)?(\[[^\]]+\]|[^:/?#]*)", re.I)
_CONNINFO_HOST = re.compile(r"\bhost=([^\s]+)")
_LOCAL = re.compile(
    r"^(?:localhost|127(?:\.\d+){3}|::1?|\[::1?\]|0\.0\.0\.0|\$\(?\{?(?:HOSTNAME|POD_IP"
    r"|MY_POD_IP|HOST_IP)\}?\)?|\$\(hostname(?: -i)?\))$",
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
        client = word.rsplit("/", 1)[-1]
        if client not in _HOST_OPTIONS:
            continue
        host = _remote_host(client, words[i + 1 :])
        if host is not None:
            return f"`{client}` against {host}"
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


def _remote_host(client: str, arguments: list[str]) -> str | None:
    """The other host a client's arguments name, quoted; None when it is this pod."""
    options = _HOST_OPTIONS[client]
    positional = client in _POSITIONAL_HOST
    skip = False
    for i, argument in enumerate(arguments):
        if argument in ("&&", "||", ";", "|"):
            break
        if skip:
            skip = False
            continue
        host = None
        name, equals, value = argument.partition("=")
        if name in options:
            host = value if equals else (arguments[i + 1] if i + 1 < len(arguments) else None)
            skip = not equals
            if host is not None and (url := _URL_HOST.match(host)):
                host = url.group(1)
        elif url := _URL_HOST.match(argument):
            host = url.group(1)
        elif conninfo := _CONNINFO_HOST.search(argument):
            host = conninfo.group(1)
        elif argument in _VALUED:
            skip = True
        elif positional and not argument.startswith("-"):
            host, positional = argument, False
        if host is not None and not _is_local(host):
            return f"`{host}`"
    return None


def _is_local(address: str) -> bool:
    """localhost, a loopback or own address, a Unix socket, or `:port` with no host."""
    if address.startswith("/") or address.startswith("unix:"):
        return True
    host = address
    if host.startswith("[") and "]" in host:
        host = host[: host.index("]") + 1]
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host == "" or bool(_LOCAL.match(host))


CHECKS = [("ZK104", check)]
