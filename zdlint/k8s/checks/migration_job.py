"""ZK501–ZK503: migrations run once, as their own gated step, never by the app's pods."""

from __future__ import annotations

import re
from collections.abc import Iterator

from zdlint.k8s.checks import Flag, flag
from zdlint.k8s.graph import Scope
from zdlint.k8s.model import Container, Job, integer
from zdlint.k8s.options import K8sOptions

_MIGRATION = re.compile(
    r"(?<![a-z0-9])(?:db:migrate|manage\.py\s+migrate|migrat(?:e|es|ion|ions)|flyway|liquibase"
    r"|alembic|goose|dbmate|atlas\s+(?:migrate|schema))(?![a-z0-9])",
    re.I,
)
# Words that make a command about migrations a gate: it checks, lists or waits for them
# (`migrate --check`, `alembic current`, `flyway validate`, `wait-for-migrations`), or
# starts the app without them (`--skip-migrations`), and changes no schema.
_GATE = re.compile(
    r"(?<![a-z0-9])(?:--check|--dry-run|--plan|check|status|current|validate|heads"
    r"|showmigrations|abort_if_pending_migrations|wait|wait[-_]for\S*|--skip[-_]migrations?"
    r"|--no[-_]migrat\w*|skip[-_]migrations?)(?![a-z0-9])",
    re.I,
)
# Where one shell command ends and the next begins.
_COMMAND_BREAK = re.compile(r"&&|\|\||;|\||\n")
DEFAULT_BACKOFF_LIMIT = 6


def migration_in(text: str) -> str | None:
    match = _MIGRATION.search(text)
    return match.group() if match else None


def migration_run_in(text: str) -> str | None:
    """The first command of `text` that runs a migration; gates (checks, waits) are not."""
    for command in _COMMAND_BREAK.split(text):
        found = migration_in(command)
        if found is not None and not _GATE.search(command):
            return found
    return None


def _container_words(container: Container) -> str:
    return " ".join(filter(None, (container.name, container.image, container.command_line)))


def is_migration_job(job: Job) -> bool:
    labels = job.obj.labels | job.template.labels
    texts = [job.obj.name, *labels.keys(), *labels.values()]
    texts += [_container_words(c) for c in job.template.all_containers]
    return any(migration_in(text) for text in texts)


def retries(scope: Scope, options: K8sOptions) -> Iterator[Flag]:
    """ZK501: a migration Job that retries re-runs a half-applied migration."""
    for job in scope.jobs:
        if not is_migration_job(job):
            continue
        limit = integer(job.obj.get(*job.spec_path, "backoffLimit"))
        if limit == 0:
            continue
        yield flag(
            job.obj,
            job.obj.first_span((*job.spec_path, "backoffLimit")),
            object=job.obj.ref,
            limit=DEFAULT_BACKOFF_LIMIT if limit is None else limit,
            default=" (the default)" if limit is None else "",
        )


def restart_policy(scope: Scope, options: K8sOptions) -> Iterator[Flag]:
    """ZK502: restartPolicy OnFailure re-runs the migration in place, uncounted."""
    for job in scope.jobs:
        policy = job.template.spec.get("restartPolicy")
        if policy == "Never" or not is_migration_job(job):
            continue
        yield flag(
            job.obj,
            job.template.span("spec", "restartPolicy"),
            object=job.obj.ref,
            policy=policy if isinstance(policy, str) else "unset",
        )


def in_app_pod(scope: Scope, options: K8sOptions) -> Iterator[Flag]:
    """ZK503: a workload's container or initContainer runs the migration on every start."""
    for workload in scope.workloads:
        template = workload.template
        for container in template.all_containers:
            found = _runs_migration(container)
            if found is None:
                continue
            field = "command" if container.get("command") is not None else "args"
            yield flag(
                workload.obj,
                template.container_span(container, field),
                object=workload.obj.ref,
                container=container.name,
                where="initContainer" if container.init else "container",
                found=found,
            )


def _runs_migration(container: Container) -> str | None:
    """What in the container runs a migration. An initContainer named or built as a gate
    (`wait-for-migrations`, `k8s-wait-for`) runs none; else its command decides when it
    mentions migrations, and its name and image when it does not (`image: migrate/migrate`)."""
    if container.init and _GATE.search(f"{container.name} {container.image or ''}"):
        return None
    command = container.command_line
    if migration_in(command) is not None or not container.init:
        return migration_run_in(command)
    return migration_run_in(_container_words(container))


CHECKS = [("ZK501", retries), ("ZK502", restart_policy), ("ZK503", in_app_pod)]
