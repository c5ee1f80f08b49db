"""Show, print or write the fixed files: unified diff (default), --stdout, --write.

Writes are atomic and keep the file's mode, owner and links (zdlint.atomic); they refuse
a file that changed since it was read, or that is read-only. Files a checksumming tool
has already applied are never edited (zdlint.fix.command decides which).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path

from zdlint.atomic import check_writable, write_atomic
from zdlint.fix.fixer import FileFix, Output


class ChangedSinceRead(Exception):
    """A file changed between reading and writing it; nothing of it was written."""


def _label(path: Path) -> str:
    return path.as_posix()


def unified_diff(fixes: Iterable[FileFix]) -> str:
    """One unified diff for every file a fix changes or creates."""
    chunks: list[str] = []
    for fix in fixes:
        for output in fix.outputs:
            if output.text == output.original:
                continue
            before = (output.original or "").splitlines(keepends=True)
            after = output.text.splitlines(keepends=True)
            name = _label(output.path)
            chunks.extend(
                difflib.unified_diff(
                    before,
                    after,
                    fromfile="/dev/null" if output.original is None else f"a/{name}",
                    tofile=f"b/{name}",
                )
            )
    return "".join(line if line.endswith("\n") else line + "\n" for line in chunks)


def stdout_text(fix: FileFix) -> str:
    """The fixed files: one file as is; several, each after a `-- ==> path <==` line."""
    outputs = [o for o in fix.outputs if o.path.name.endswith(".sql")] or fix.outputs
    if len(outputs) == 1:
        return outputs[0].text
    return "\n".join(f"-- ==> {_label(o.path)} <==\n{o.text}" for o in outputs)


def write(fix: FileFix) -> list[Path]:
    """Write every changed output; raise ChangedSinceRead before writing anything if an
    existing file is not what was read, or a new file appeared meanwhile, and ReadOnlyFile
    if an existing one may not be written."""
    pending: list[Output] = [o for o in fix.outputs if o.text != o.original]
    for output in pending:
        current = _read(output.path)
        if current != output.original:
            what = "was created" if output.original is None else "changed"
            raise ChangedSinceRead(
                f"{_label(output.path)} {what} since zdlint read it; nothing of "
                f"{fix.display} was written; run zdlint fix again"
            )
    for output in pending:
        if output.original is not None:
            check_writable(output.path)
    written = []
    for output in pending:
        output.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(output.path, output.text)
        written.append(output.path)
    return written


def _read(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        return "\0undecodable"
