"""Configuration: `.zdlint.toml`, `zdlint.toml` or `[tool.zdlint]` in `pyproject.toml`.

The nearest folder (from the working directory upwards) that holds one of them wins;
within a folder the order above decides. Keys are kebab-case; an unknown key or a bad
value is an error that names it.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from zdlint import toml
from zdlint.catalogue import Catalogue
from zdlint.findings import Severity
from zdlint.last_result import LastResult
from zdlint.sql.timeouts import parse_duration_ms
from zdlint.sql.tools import TOOL_NAMES, TRANSACTION_MODES, ConfiguredTool
from zdlint.versions import (
    DEFAULT_K8S_VERSION,
    DEFAULT_PG_VERSION,
    SUPPORTED_PG_VERSIONS,
    parse_k8s_release,
)

CONFIG_FILES = (".zdlint.toml", "zdlint.toml", "pyproject.toml")
DEFAULT_MAX_LOCK_TIMEOUT = "10s"


class ConfigError(Exception):
    """A configuration problem; the message says where and what to do."""


@dataclass(frozen=True)
class Settings:
    """The effective configuration of a run: config file, then command options."""

    select: tuple[str, ...] | None = None  # None: the catalogue's default rules
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    per_file_ignores: dict[str, tuple[str, ...]] = field(default_factory=dict)
    pg_version: int = DEFAULT_PG_VERSION
    transaction: str = "auto"
    max_lock_timeout_ms: float = parse_duration_ms(DEFAULT_MAX_LOCK_TIMEOUT)
    fail_on: Severity = Severity.WARNING
    templates: bool = True  # read {{ … }}, @name@ and $%NAME%$ placeholders as identifiers
    tools: tuple[tuple[str, str], ...] = ()  # (glob, tool) pairs from [tool.zdlint.tools]
    timezone: str = "UTC"  # the session TimeZone the migrations run with
    history: bool = True  # replay earlier migrations of a file's folder
    schema: Path | None = None  # a `pg_dump --schema-only` file that seeds the model
    exclude: tuple[str, ...] = ()
    force_exclude: bool = False  # `exclude` applies to files named on the command line too
    baseline: Path | None = None  # findings recorded here are not reported (zdlint.adopt)
    start_after: str | None = None  # migrations at or before this one are not reported
    k8s_version: tuple[int, int] = DEFAULT_K8S_VERSION  # the release manifests are applied to
    k8s: dict[str, Any] = field(default_factory=dict)  # read by the Kubernetes checker
    # [tool.zdlint.django] settings: the settings module Django migrations load with
    django_settings: str | None = None
    fix: dict[str, Any] = field(default_factory=dict)  # fix-* keys, read by `zdlint fix`
    root: Path = field(default_factory=Path.cwd)  # where per-file-ignores globs start
    source: Path | None = None  # the config file, when there is one

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def tool_for(self, path: Path | None) -> ConfiguredTool | None:
        """The tool `[tool.zdlint.tools]` names for `path`: the first glob, in the order
        written, matching the path (relative to the config file) or a folder above it."""
        if not self.tools or path is None:
            return None
        relative = _relative(str(path), self.root)
        folders = [relative]
        while "/" in folders[-1]:
            folders.append(folders[-1].rsplit("/", 1)[0])
        for glob, tool in self.tools:
            if any(fnmatch.fnmatch(f, glob) for f in folders):
                return ConfiguredTool(tool, glob)
        return None


def find_config(start: Path) -> Path | None:
    """The nearest config file from `start` upwards."""
    for folder in (start, *start.parents):
        for name in CONFIG_FILES:
            candidate = folder / name
            if not candidate.is_file():
                continue
            if name != "pyproject.toml" or _has_tool_table(candidate):
                return candidate
    return None


def _has_tool_table(path: Path) -> bool:
    """Whether a pyproject.toml configures zdlint. One that cannot be parsed is an error
    (as ruff makes it): silently ignoring it would drop its [tool.zdlint] settings."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return False
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc}") from None
    try:
        data = toml.loads(text)
    except ValueError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    return isinstance(data.get("tool"), dict) and "zdlint" in data["tool"]


def load_settings(path: Path | None, catalogue: Catalogue) -> Settings:
    """Settings from a config file (or the defaults when `path` is None)."""
    if path is None:
        return Settings()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc}") from None
    try:
        data = toml.loads(text)
    except ValueError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("zdlint", {})
        where = f"{path} [tool.zdlint]"
    else:
        where = str(path)
    return parse_settings(data, catalogue, where, root=path.parent.resolve(), source=path)


_KEYS = (
    "select",
    "extend-select",
    "ignore",
    "per-file-ignores",
    "pg-version",
    "transaction",
    "max-lock-timeout",
    "fail-on",
    "templates",
    "tools",
    "history",
    "schema",
    "timezone",
    "exclude",
    "force-exclude",
    "baseline",
    "start-after",
    "k8s-version",
    "k8s",
    "django",
    "fix-contract-dir",
    "fix-batch-size",
    "fix-lock-timeout",
    "fix-statement-timeout",
)


def parse_settings(
    data: dict[str, Any], catalogue: Catalogue, where: str, root: Path, source: Path | None
) -> Settings:
    for key in data:
        if key not in _KEYS:
            import difflib  # only to word the error

            close = difflib.get_close_matches(key.replace("_", "-"), _KEYS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"{where}: unknown key {key!r}{hint}")
    settings = Settings(root=root, source=source)
    changes: dict[str, Any] = {}
    if "select" in data:
        changes["select"] = tuple(rule_selectors(data["select"], catalogue, f"{where}: select"))
    if "extend-select" in data:
        changes["extend_select"] = tuple(
            rule_selectors(data["extend-select"], catalogue, f"{where}: extend-select")
        )
    if "ignore" in data:
        changes["ignore"] = tuple(rule_selectors(data["ignore"], catalogue, f"{where}: ignore"))
    if "per-file-ignores" in data:
        table = data["per-file-ignores"]
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: per-file-ignores must be a table of glob = [rules]")
        changes["per_file_ignores"] = {
            glob: tuple(rule_selectors(codes, catalogue, f"{where}: per-file-ignores.{glob}"))
            for glob, codes in table.items()
        }
    if "pg-version" in data:
        changes["pg_version"] = parse_pg_version(data["pg-version"], f"{where}: pg-version")
    if "k8s-version" in data:
        changes["k8s_version"] = parse_k8s_version(data["k8s-version"], f"{where}: k8s-version")
    if "transaction" in data:
        changes["transaction"] = transaction_mode(data["transaction"], f"{where}: transaction")
    if "max-lock-timeout" in data:
        changes["max_lock_timeout_ms"] = duration(
            data["max-lock-timeout"], f"{where}: max-lock-timeout"
        )
    if "fail-on" in data:
        changes["fail_on"] = severity(data["fail-on"], f"{where}: fail-on")
    if "templates" in data:
        if not isinstance(data["templates"], bool):
            raise ConfigError(f"{where}: templates must be true or false")
        changes["templates"] = data["templates"]
    if "tools" in data:
        changes["tools"] = tool_globs(data["tools"], f"{where}: tools")
    if "timezone" in data:
        if not isinstance(data["timezone"], str) or not data["timezone"].strip():
            raise ConfigError(f"{where}: timezone must be a time zone name such as 'UTC'")
        changes["timezone"] = data["timezone"]
    if "history" in data:
        if not isinstance(data["history"], bool):
            raise ConfigError(f"{where}: history must be true or false")
        changes["history"] = data["history"]
    if "schema" in data:
        if not isinstance(data["schema"], str):
            raise ConfigError(f"{where}: schema must be the path of a pg_dump --schema-only file")
        changes["schema"] = root / data["schema"]
    if "exclude" in data:
        changes["exclude"] = tuple(_string_list(data["exclude"], f"{where}: exclude"))
    if "force-exclude" in data:
        if not isinstance(data["force-exclude"], bool):
            raise ConfigError(f"{where}: force-exclude must be true or false")
        changes["force_exclude"] = data["force-exclude"]
    if "baseline" in data:
        if not isinstance(data["baseline"], str) or not data["baseline"].strip():
            raise ConfigError(f"{where}: baseline must be the path of a baseline JSON file")
        changes["baseline"] = root / data["baseline"]
    if "start-after" in data:
        value = data["start-after"]
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(
                f"{where}: start-after must be a migration name or version, e.g. '20240101000000'"
            )
        changes["start_after"] = value.strip()
    if "k8s" in data:
        if not isinstance(data["k8s"], dict):
            raise ConfigError(f"{where}: k8s must be a table")
        from zdlint.k8s.options import validate_k8s_table  # it imports this module

        changes["k8s"] = validate_k8s_table(data["k8s"], f"{where}: k8s")
    if "django" in data:
        changes["django_settings"] = _django_settings(data["django"], f"{where}: django")
    fix = _fix_settings(data, where)
    if fix:
        changes["fix"] = fix
    return replace(settings, **changes)


def _django_settings(table: Any, where: str) -> str | None:
    """The `settings` key of `[tool.zdlint.django]`: a dotted module name."""
    if not isinstance(table, dict) or set(table) - {"settings"}:
        raise ConfigError(f"{where} must be a table with one key, settings = 'project.settings'")
    value = table.get("settings")
    if value is None:
        return None
    if not isinstance(value, str) or not all(p.isidentifier() for p in value.split(".")):
        raise ConfigError(f"{where}.settings must be a module name such as 'project.settings'")
    return value


def _fix_settings(data: dict[str, Any], where: str) -> dict[str, Any]:
    """The `fix-*` keys, as FixOptions field names."""
    fix: dict[str, Any] = {}
    if "fix-contract-dir" in data:
        if not isinstance(data["fix-contract-dir"], str) or not data["fix-contract-dir"].strip():
            raise ConfigError(f"{where}: fix-contract-dir must be a folder name such as 'pending'")
        fix["contract_dir"] = data["fix-contract-dir"]
    if "fix-batch-size" in data:
        value = data["fix-batch-size"]
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ConfigError(f"{where}: fix-batch-size must be a positive whole number")
        fix["batch_size"] = value
    for key in ("fix-lock-timeout", "fix-statement-timeout"):
        if key in data:
            duration(data[key], f"{where}: {key}")
            fix[key[4:].replace("-", "_")] = str(data[key])
    return fix


def _string_list(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of strings")
    return value


def rule_selectors(value: Any, catalogue: Catalogue, where: str) -> list[str]:
    """Rule codes from codes, names, code prefixes (`ZD1`) or `ALL`."""
    codes: list[str] = []
    for token in _string_list(value, where):
        matched = expand_selector(token, catalogue)
        if not matched:
            raise ConfigError(
                f"{where}: {token!r} matches no rule (use a code like ZD101, a name like"
                " set-not-null-scan, a prefix like ZD1, or ALL)"
            )
        codes.extend(matched)
    return codes


def expand_selector(token: str, catalogue: Catalogue) -> list[str]:
    token = token.strip()
    if token.upper() == "ALL":
        return [r.code for r in catalogue]
    rule = catalogue.get(token)
    if rule is not None:
        return [rule.code]
    upper = token.upper()
    if len(upper) >= 2 and upper.startswith("Z"):
        return [r.code for r in catalogue if r.code.startswith(upper)]
    return []


def parse_pg_version(value: Any, where: str) -> int:
    try:
        number = int(str(value).split(".")[0])
    except ValueError:
        number = -1
    if number not in SUPPORTED_PG_VERSIONS:
        raise ConfigError(
            f"{where}: {value!r} is not a supported PostgreSQL version "
            f"({SUPPORTED_PG_VERSIONS.start}–{SUPPORTED_PG_VERSIONS.stop - 1})"
        )
    return number


def parse_k8s_version(value: Any, where: str) -> tuple[int, int]:
    """A Kubernetes release written `1.31` (a string: TOML reads 1.30 as the number 1.3)."""
    version = parse_k8s_release(value)
    if version is None:
        raise ConfigError(f'{where}: {value!r} is not a Kubernetes release; write it as "1.31"')
    return version


def tool_globs(value: Any, where: str) -> tuple[tuple[str, str], ...]:
    """The `tools` table: path globs (relative to the config file) → migration tool."""
    if not isinstance(value, dict):
        raise ConfigError(f'{where} must be a table of "path/glob" = "tool"')
    pairs = []
    for glob, tool in value.items():
        if not isinstance(tool, str) or tool not in TOOL_NAMES:
            import difflib  # only to word the error

            close = difflib.get_close_matches(str(tool).lower(), TOOL_NAMES, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(
                f"{where}.{glob!r}: {tool!r} is not a migration tool zdlint knows{hint} "
                f"(one of {', '.join(TOOL_NAMES)})"
            )
        pairs.append((glob.strip("/"), tool))
    return tuple(pairs)


def transaction_mode(value: Any, where: str) -> str:
    if value not in TRANSACTION_MODES:
        raise ConfigError(f"{where}: {value!r}; expected one of {', '.join(TRANSACTION_MODES)}")
    return str(value)


def duration(value: Any, where: str) -> float:
    try:
        ms = parse_duration_ms(value)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{where}: {exc}") from None
    if ms <= 0:
        raise ConfigError(f"{where}: must be greater than zero")
    return ms


def severity(value: Any, where: str) -> Severity:
    try:
        return Severity.parse(str(value))
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None


UTC_NAMES = {"utc", "etc/utc", "gmt", "etc/gmt", "z", "zulu", "uct", "universal"}


def timezone_is_utc(settings: Settings) -> bool:
    return settings.timezone.strip().lower() in UTC_NAMES


# Without per-file ignores every file of a run has the same codes: worked out once.
_run_codes: LastResult[frozenset[str]] = LastResult()


def enabled_codes(settings: Settings, catalogue: Catalogue, path: str | None) -> frozenset[str]:
    """The rule codes to report for one file."""
    if not settings.per_file_ignores:
        return _run_codes.get((settings, catalogue), lambda: _codes(settings, catalogue, None))
    return _codes(settings, catalogue, path)


def _codes(settings: Settings, catalogue: Catalogue, path: str | None) -> frozenset[str]:
    """The codes selected for `path` (None: before any per-file ignores)."""
    if settings.select is None:
        codes = {r.code for r in catalogue if r.enabled}
    else:
        codes = set(settings.select)
    codes |= set(settings.extend_select)
    codes -= set(settings.ignore)
    if path is not None and settings.per_file_ignores:
        relative = _relative(path, settings.root)
        for glob, ignored in settings.per_file_ignores.items():
            if fnmatch.fnmatch(relative, glob) or fnmatch.fnmatch(Path(path).name, glob):
                codes -= set(ignored)
    return frozenset(codes)


def _relative(path: str, root: Path) -> str:
    # realpath, unlike Path.resolve(), does not raise on a symlink loop
    try:
        return Path(os.path.realpath(path)).relative_to(root).as_posix()
    except ValueError:
        return Path(path).as_posix()


def is_excluded(path: Path, settings: Settings) -> bool:
    if not settings.exclude:  # the usual case: skip resolving the path
        return False
    relative = _relative(str(path), settings.root)
    return any(
        fnmatch.fnmatch(relative, glob) or fnmatch.fnmatch(path.name, glob)
        for glob in settings.exclude
    )


def command_settings(
    catalogue: Catalogue,
    *,
    config_path: str | None,
    isolated: bool,
    select: str | None = None,
    extend_select: str | None = None,
    ignore: str | None = None,
    pg_version: str | None = None,
    k8s_version: str | None = None,
    fail_on: str | None = None,
    schema: str | None = None,
    **plain: Any,
) -> Settings:
    """The nearest config file (or `--config`, or none with `--isolated`) with a
    command's options on top. Rule options are comma-separated codes, names or prefixes;
    `--ignore` adds to the configured ignores. Raises ConfigError naming the option."""

    def rules(value: str | None, option: str) -> tuple[str, ...] | None:
        if not value:
            return None
        tokens = [t for t in value.split(",") if t.strip()]
        return tuple(rule_selectors(tokens, catalogue, option))

    found = None if isolated else (Path(config_path) if config_path else find_config(Path.cwd()))
    settings = load_settings(found, catalogue)
    extra_ignores = rules(ignore, "--ignore")
    return settings.with_overrides(
        select=rules(select, "--select"),
        extend_select=rules(extend_select, "--extend-select"),
        ignore=settings.ignore + extra_ignores if extra_ignores else None,
        pg_version=parse_pg_version(pg_version, "--pg-version") if pg_version else None,
        k8s_version=parse_k8s_version(k8s_version, "--k8s-version") if k8s_version else None,
        fail_on=severity(fail_on, "--fail-on") if fail_on else None,
        schema=Path(schema) if schema else None,
        **plain,
    )
