"""Files changed since a git revision, for `--diff-base REF`."""

from __future__ import annotations

import subprocess
from pathlib import Path


class DiffBaseError(Exception):
    """git could not answer; the message says why."""


def _git(args: list[str], cwd: Path) -> str:
    try:
        result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    except FileNotFoundError:
        raise DiffBaseError("--diff-base needs git, which is not installed") from None
    if result.returncode != 0:
        message = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ""
        raise DiffBaseError(f"git {' '.join(args)} failed: {message}")
    return result.stdout


def changed_files(ref: str, cwd: Path) -> set[Path]:
    """Files added or modified since `ref` (committed, staged, unstaged or untracked)."""
    return _since(ref, cwd, "ACMR")


def added_files(ref: str, cwd: Path) -> set[Path]:
    """Files that are new since `ref` (committed, staged, unstaged or untracked): the
    migrations of the release a branch makes. Modified files are not new: a migration
    edited on the branch has run before."""
    return _since(ref, cwd, "A")


def _since(ref: str, cwd: Path, kinds: str) -> set[Path]:
    top = Path(_git(["rev-parse", "--show-toplevel"], cwd).strip())
    _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd)
    names = _git(["diff", "--name-only", f"--diff-filter={kinds}", ref, "--"], cwd).splitlines()
    names += _git(["ls-files", "--others", "--exclude-standard"], cwd).splitlines()
    return {(top / name).resolve() for name in names if name}


def files_at(ref: str, cwd: Path) -> set[Path]:
    """Files that exist in revision `ref` (whatever happened to them since)."""
    top = Path(_git(["rev-parse", "--show-toplevel"], cwd).strip())
    _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd)
    names = _git(["ls-tree", "-r", "--name-only", "--full-tree", ref], cwd).splitlines()
    return {(top / name).resolve() for name in names if name}
