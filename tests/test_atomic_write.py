"""Files zdlint writes: whole or not at all, whatever happens mid-write."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from zdlint.atomic import write_atomic


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".zdlint-tmp")]


def test_replaces_the_file_and_keeps_its_mode(tmp_path):
    target = tmp_path / "m.sql"
    target.write_text("old")
    target.chmod(0o640)
    write_atomic(target, "new")
    assert target.read_text() == "new"
    assert target.stat().st_mode & 0o777 == 0o640
    assert leftovers(tmp_path) == []


def test_a_full_disk_leaves_the_original_whole_and_no_temp_file(tmp_path, monkeypatch):
    target = tmp_path / "m.sql"
    target.write_text("original")

    def no_space(_fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(OSError, match="No space"):
        write_atomic(target, "x" * 10_000)
    assert target.read_text() == "original"
    assert leftovers(tmp_path) == []


def test_an_interrupt_mid_write_leaves_the_original_whole(tmp_path, monkeypatch):
    target = tmp_path / "m.sql"
    target.write_text("original")

    def interrupted(_fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, "new content")
    assert target.read_text() == "original"
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tiny tmpfs needs root")
def test_a_really_full_filesystem(tmp_path):
    """A 64 KiB tmpfs in a private mount namespace: the write fails, the file stays."""
    script = f"""
set -e
mount -t tmpfs -o size=64k tmpfs {tmp_path}
printf original > {tmp_path}/m.sql
{sys.executable} -c '
from pathlib import Path
from zdlint.atomic import write_atomic
try:
    write_atomic(Path("{tmp_path}/m.sql"), "x" * 1_000_000)
except OSError as exc:
    print("refused", exc.errno)
'
cat {tmp_path}/m.sql; echo; ls -a {tmp_path}
"""
    result = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True)
    if result.returncode != 0 and "unshare" in result.stderr:
        pytest.fail(f"cannot make a mount namespace here: {result.stderr}")
    lines = result.stdout.split()
    assert f"refused {errno.ENOSPC}" in result.stdout, result.stdout + result.stderr
    assert "original" in lines
    assert not [name for name in lines if name.endswith(".zdlint-tmp")]


def test_sigterm_during_a_run_unwinds_cleanly(tmp_path):
    """The CLI turns SIGTERM into an orderly exit (finally blocks run), code 143."""
    slow = tmp_path / "slow.py"
    slow.write_text(
        "import signal, sys, time\n"
        "from zdlint.cli import _terminated\n"
        "signal.signal(signal.SIGTERM, _terminated)\n"
        "try:\n"
        "    print('ready', flush=True)\n"
        "    time.sleep(30)\n"
        "finally:\n"
        "    print('cleaned up', flush=True)\n"
    )
    process = subprocess.Popen([sys.executable, str(slow)], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    process.terminate()
    out, _ = process.communicate(timeout=30)
    assert "cleaned up" in out
    assert process.returncode == 143


def test_hard_linked_file_is_rewritten_in_place_and_both_names_see_the_new_text(tmp_path):
    target = tmp_path / "m.sql"
    target.write_text("old content that is longer")
    os.link(target, tmp_path / "other.sql")
    inode = target.stat().st_ino
    write_atomic(target, "new")
    assert target.stat().st_ino == inode
    assert (tmp_path / "other.sql").read_text() == "new"
    assert leftovers(tmp_path) == []


def test_a_failed_in_place_rewrite_puts_the_old_bytes_back(tmp_path, monkeypatch):
    target = tmp_path / "m.sql"
    target.write_text("original")
    os.link(target, tmp_path / "other.sql")

    def no_space(_fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(OSError, match="No space"):
        write_atomic(target, "x" * 10_000)
    assert (tmp_path / "other.sql").read_text() == "original"


def test_a_symlink_stays_a_link_and_its_target_gets_the_text(tmp_path):
    (tmp_path / "real.sql").write_text("old")
    (tmp_path / "hop.sql").symlink_to("real.sql")
    (tmp_path / "m.sql").symlink_to("hop.sql")
    write_atomic(tmp_path / "m.sql", "new")
    assert (tmp_path / "m.sql").is_symlink() and (tmp_path / "hop.sql").is_symlink()
    assert (tmp_path / "real.sql").read_text() == "new"


def test_read_only_file_is_refused_and_left_alone(tmp_path):
    from zdlint.atomic import ReadOnlyFile

    target = tmp_path / "m.sql"
    target.write_text("old")
    target.chmod(0o444)
    with pytest.raises(ReadOnlyFile, match="m.sql: the file is read-only"):
        write_atomic(target, "new")
    assert target.read_text() == "old"
