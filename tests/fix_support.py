"""Run `zdlint fix` on a catalogue example the way the tests need it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zdlint.catalogue import Example, load_catalogue
from zdlint.config import Settings
from zdlint.fix.apply import stdout_text
from zdlint.fix.fixer import FileFix, fix_text
from zdlint.fix.plan import FixOptions
from zdlint.sql.history import replay_text
from zdlint.sql.schema import SchemaModel


def example_settings(example: Example, **extra: Any) -> Settings:
    settings = {k: tuple(v) if isinstance(v, list) else v for k, v in example.options.items()}
    if example.pg_version is not None:
        settings["pg_version"] = example.pg_version
    settings.update(extra)
    return Settings(**settings)


def schema_of(setup: str) -> SchemaModel:
    """The schema model the example's setup SQL describes (what `--schema` would give)."""
    model = SchemaModel()
    if setup:
        replay_text(model, setup, None, templates=False)
    return model


def fix_source(
    source: str,
    path: str = "example.sql",
    setup: str = "",
    settings: Settings | None = None,
    options: FixOptions | None = None,
    folder: Path | None = None,
) -> FileFix:
    where = (folder / path) if folder is not None else Path(path)
    if folder is not None:  # the migration's own folder, for tools that name it
        where.parent.mkdir(parents=True, exist_ok=True)
    return fix_text(
        path if folder is None else str(where),
        where,
        source,
        settings or Settings(),
        load_catalogue(),
        options or FixOptions(),
        schema_of(setup),
    )


def fix_example(example: Example, **settings: Any) -> FileFix:
    return fix_source(
        example.source,
        example.path or "example.sql",
        example.setup,
        example_settings(example, **settings),
    )


def fixed_text(example: Example) -> str:
    """What `zdlint fix --stdout` prints for the example."""
    result = fix_example(example)
    return stdout_text(result) if result.changed else example.source
