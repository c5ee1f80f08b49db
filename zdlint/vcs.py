"""Files changed since a git revision, for `--diff-base REF`."""

from __future__ import annotations

import os
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
        lines = result.stderr.strip().splitlines()
        message = lines[-1] if lines else f"exit status {result.returncode}"
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


SHALLOW_HELP = (
    "the clone is shallow: fetch the history first, with `fetch-depth: 0` in "
    "actions/checkout (GitLab: GIT_DEPTH: 0), or `git fetch --unshallow` "
    "(or `git fetch --deepen=<commits>` until the merge-base is reached)"
)


def merge_base(ref: str, cwd: Path) -> str:
    """The commit where HEAD's branch left `ref` (`git merge-base REF HEAD`), which a
    pull request is compared with, as GitHub and GitLab show it."""
    try:
        _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd)
    except DiffBaseError:
        reason = f"--diff-base {ref}: no such revision"
        if _is_shallow(cwd):
            reason += f"; {SHALLOW_HELP}, and fetch {ref} itself (`git fetch origin <branch>`)"
        raise DiffBaseError(reason) from None
    try:
        return _git(["merge-base", ref, "HEAD"], cwd).strip()
    except DiffBaseError:
        if _is_shallow(cwd):
            raise DiffBaseError(
                f"--diff-base {ref}: the merge-base of {ref} and HEAD is not in this "
                f"clone; {SHALLOW_HELP}"
            ) from None
        raise DiffBaseError(f"--diff-base {ref}: {ref} and HEAD have no common ancestor") from None


def _is_shallow(cwd: Path) -> bool:
    try:
        return _git(["rev-parse", "--is-shallow-repository"], cwd).strip() == "true"
    except DiffBaseError:
        return False


def _since(ref: str, cwd: Path, kinds: str) -> set[Path]:
    top = Path(_git(["rev-parse", "--show-toplevel"], cwd).strip())
    base = merge_base(ref, cwd)
    names = _git(["diff", "--name-only", f"--diff-filter={kinds}", base, "--"], cwd).splitlines()
    names += _git(["ls-files", "--others", "--exclude-standard"], cwd).splitlines()
    return {(top / name).resolve() for name in names if name}


def files_at(ref: str, cwd: Path) -> set[Path]:
    """Files that exist at the merge-base of `ref` and HEAD (whatever happened to them
    since)."""
    top = Path(_git(["rev-parse", "--show-toplevel"], cwd).strip())
    base = merge_base(ref, cwd)
    names = _git(["ls-tree", "-r", "--name-only", "--full-tree", base], cwd).splitlines()
    return {(top / name).resolve() for name in names if name}


def git_ignored(paths: list[Path], cwd: Path) -> set[Path]:
    """Those of `paths` that git ignores (.gitignore, .git/info/exclude, the global
    excludes file); none when git is missing or `cwd` is not in a work tree."""
    if not paths:
        return set()
    folder = cwd if cwd.is_dir() else cwd.parent
    try:
        result = subprocess.run(
            ["git", "check-ignore", "--stdin", "-z"],
            cwd=folder,
            input="\0".join(os.path.abspath(p) for p in paths) + "\0",
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return set()
    # 0: some are ignored, 1: none is; 128: not a git work tree (or another failure)
    if result.returncode != 0:
        return set()
    ignored = {name for name in result.stdout.split("\0") if name}
    return {p for p in paths if os.path.abspath(p) in ignored}
