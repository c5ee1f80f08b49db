"""Django migration modules: recognise them, and render a project's migration graph.

Rendering runs in a child process (`zdlint.orm.django_render`) once per project and
run; this module never imports Django.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zdlint.orm.rendered import OpaqueOperation, RenderedMigration, RenderedStatement

_MIGRATION_NAME = re.compile(r"^\d{4}_\w*\.py$")
_MIGRATION_CLASS = re.compile(r"^class\s+Migration\s*\(\s*(?:migrations\.)?Migration\s*\)", re.M)
# Apps of django.contrib that ship migrations, rendered when the project's depend on them
_CONTRIB_APPS = ("contenttypes", "auth", "admin", "sessions", "sites", "flatpages", "redirects")
_TEST_FOLDERS = frozenset({"test", "tests"})
_SKIPPED = {".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", "site-packages"}
RENDER_TIMEOUT_S = 300


def is_migration_name(path: Path) -> bool:
    """A Django migration module's name: `NNNN_name.py` in a `migrations` package."""
    return path.parent.name == "migrations" and _MIGRATION_NAME.match(path.name) is not None


def is_django_migration(text: str, path: Path | None) -> bool:
    return path is not None and is_migration_name(path) and bool(_MIGRATION_CLASS.search(text))


@dataclass
class DjangoGraph:
    """A project's migrations, rendered, in the order `migrate` runs them."""

    order: list[Path] = field(default_factory=list)  # resolved module paths
    rendered: dict[Path, RenderedMigration] = field(default_factory=dict)
    error: str | None = None  # why the project could not be loaded at all
    # Migrations a squashed migration replaces: (the squashed one, those of them that
    # run before this one), in the order they run.
    replaced: dict[Path, tuple[Path, list[Path]]] = field(default_factory=dict)


def _top_package(folder: Path) -> Path:
    """The outermost package holding `folder` (a folder with `__init__.py`)."""
    while (folder.parent / "__init__.py").is_file():
        folder = folder.parent
    return folder


def _module_name(package: Path, root: Path) -> str:
    return ".".join(package.relative_to(root).parts)


def _apps_under(top: Path, root: Path, skipped: frozenset[str] = frozenset()) -> list[str]:
    """Module names of the packages under `top` with a `migrations` package (one per
    app label: Django refuses two)."""
    apps: list[str] = []
    for folder, dirs, _files in os.walk(top):
        dirs[:] = sorted(
            d for d in dirs if d not in _SKIPPED and d not in skipped and not d.startswith(".")
        )
        here = Path(folder)
        migrations = here / "migrations"
        if "migrations" in dirs and (migrations / "__init__.py").is_file():
            # a package of migration modules (django.db.migrations is none)
            numbered = any(is_migration_name(p) for p in migrations.glob("[0-9]*.py"))
            if numbered and (here / "__init__.py").is_file() and here != root:
                name = _module_name(here, root)
                labels = {a.rsplit(".", 1)[-1] for a in apps}
                if _declared_name(here) in (None, name) and here.name not in labels:
                    apps.append(name)
    return apps


_APP_NAME = re.compile(r"^\s+name\s*=\s*[\"']([\w.]+)[\"']", re.M)


def _declared_name(package: Path) -> str | None:
    """The module name the package's AppConfig declares: a template app (`name =
    "home"` inside a project template) is not importable where it lies."""
    try:
        text = (package / "apps.py").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    match = _APP_NAME.search(text)
    return match.group(1) if match else None


def project_apps(path: Path) -> tuple[Path, list[str]]:
    """(the folder to import from, the apps to install) for a migration module: its
    package tree's apps, and the contrib apps their migrations name."""
    app = path.parent.parent
    top = _top_package(app)
    root = top.parent
    # installed packages (site-packages, a `pip install --target` folder): only the
    # package itself, not every other package installed beside it
    installed = root.name in ("site-packages", "dist-packages") or any(root.glob("*.dist-info"))
    # an installed package's test apps are no part of what it deploys
    apps = _apps_under(top, root, _TEST_FOLDERS) if installed else _apps_under(root, root)
    app_name = _module_name(app, root)
    if app_name not in apps:
        apps.append(app_name)
    # apps the migrations depend on by label: an installed package of that name
    texts = ""
    read: set[str] = set()
    while len(read) < len(apps):
        for name in [a for a in apps if a not in read]:
            read.add(name)
            text = _migration_texts(_package_folder(name, root))
            texts += text
            for label in sorted(set(_DEPENDENCY.findall(text))):
                known = {a.rsplit(".", 1)[-1] for a in apps} | set(_CONTRIB_APPS)
                if label not in known and _package_folder(label, root) is not None:
                    apps.append(label)
    contrib = []
    for label in _CONTRIB_APPS:
        if re.search(rf"[\"']{label}[\"']|django\.contrib\.{label}\b", texts) or (
            label in ("auth", "contenttypes") and "AUTH_USER_MODEL" in texts
        ):
            contrib.append(f"django.contrib.{label}")
    if "django.contrib.auth" in contrib and "django.contrib.contenttypes" not in contrib:
        contrib.insert(0, "django.contrib.contenttypes")
    return root, contrib + [a for a in apps if a not in contrib]


_DEPENDENCY = re.compile(r"\(\s*[\"'](\w+)[\"']\s*,\s*[\"']\d{4}_")


def _package_folder(name: str, root: Path) -> Path | None:
    """The folder of package `name`, beside the project or installed."""
    folder = root.joinpath(*name.split("."))
    if (folder / "__init__.py").is_file():
        return folder
    import importlib.util

    try:
        spec = importlib.util.find_spec(name) if "." not in name else None
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def _migration_texts(folder: Path | None) -> str:
    if folder is None:
        return ""
    texts = []
    for migration in sorted((folder / "migrations").glob("[0-9]*.py")):
        try:
            texts.append(migration.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            continue
    return "".join(texts)


def render_graph(path: Path, settings_module: str | None, pg_version: int) -> DjangoGraph:
    """Render every migration of the project `path` belongs to."""
    root, apps = project_apps(path)
    request = {
        "path": [str(root), os.getcwd()],
        "settings": settings_module,
        "apps": apps,
        "pg_version": pg_version,
    }
    try:
        done = subprocess.run(
            [sys.executable, "-m", "zdlint.orm.django_render"],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=RENDER_TIMEOUT_S,
            env={**os.environ, "PYTHONPATH": _pythonpath(root)},
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return DjangoGraph(error=f"the migrations could not be loaded: {exc}")
    try:
        result = json.loads(done.stdout)
    except ValueError:
        last = done.stderr.strip().splitlines()[-1:] or ["no output"]
        return DjangoGraph(error=f"the migrations could not be loaded: {last[0]}")
    graph = DjangoGraph(error=result["error"])
    for item in result["plan"]:
        target = Path(item["path"])
        graph.order.append(target)
        graph.rendered[target] = _rendered(item)
    siblings: dict[Path, list[Path]] = {}
    for item in result.get("replaced", []):
        target, squashed = Path(item["path"]), graph.order[item["squashed_into"]]
        earlier = siblings.setdefault(squashed, [])
        graph.replaced[target] = (squashed, list(earlier))
        graph.rendered[target] = _rendered(item)
        earlier.append(target)
    return graph


def _rendered(item: dict[str, Any]) -> RenderedMigration:
    return RenderedMigration(
        statements=[RenderedStatement(*s) for s in item["statements"]],
        atomic=item["atomic"],
        problems=[(line, text) for line, text in item["problems"]],
        opaque=[OpaqueOperation(*o) for o in item["opaque"]],
    )


def _pythonpath(root: Path) -> str:
    """zdlint itself, the project, and what the caller had."""
    import zdlint

    own = str(Path(zdlint.__file__).resolve().parent.parent)
    parts = [own, str(root), os.environ.get("PYTHONPATH", "")]
    return os.pathsep.join(p for p in parts if p)
