"""trace stops its throwaway server when it is interrupted or terminated."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest


def postgres_children(parent: int) -> set[int]:
    """PIDs of `postgres` processes whose parent is `parent` (the server zdlint started)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")[0]
            # the field after the parenthesised name is the state, then the parent PID
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if command.endswith(b"postgres") and int(fields[1]) == parent:
            found.add(int(entry.name))
    return found


def alive(pids: set[int]) -> set[int]:
    return {pid for pid in pids if Path(f"/proc/{pid}").exists()}


def gone(pids: set[int], seconds: float = 20) -> bool:
    """Whether every process of `pids` exits within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and alive(pids):
        time.sleep(0.1)
    return not alive(pids)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_trace_stops_its_server_when_signalled(tmp_path, signum):
    migration = tmp_path / "slow.sql"
    migration.write_text("SELECT pg_sleep(60);\n")
    process, started = _start(["trace", str(migration)], new_session=False)
    try:
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode != 0
    assert b"Traceback" not in stderr
    assert gone(started), "the server outlived zdlint"


def _start(command: list[str], new_session: bool) -> tuple[subprocess.Popen[bytes], set[int]]:
    """Start zdlint; with `new_session`, as a shell starts a foreground job: leader of
    its own process group, which is what Ctrl-C in a terminal signals. Returns once its
    server runs, with the server's process ids."""
    process = subprocess.Popen(
        [sys.executable, "-c", "from zdlint.cli import run; run()", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=new_session,
    )
    deadline = time.monotonic() + 60
    started: set[int] = set()
    while time.monotonic() < deadline and not started and process.poll() is None:
        started = postgres_children(process.pid)
        time.sleep(0.05)
    if not started:
        _, stderr = process.communicate(timeout=30)
        pytest.fail(f"zdlint never started a server: {stderr.decode(errors='replace')}")
    time.sleep(1.0)  # let it reach the slow statement
    return process, started


@pytest.mark.parametrize("command", ["trace", "verify"])
def test_ctrl_c_in_the_terminal_stops_the_server_and_exits_130_with_one_line(tmp_path, command):
    setup = tmp_path / "setup.sql"
    setup.write_text("CREATE TABLE t (id bigint PRIMARY KEY);\n")
    migration = tmp_path / "slow.sql"
    migration.write_text("ALTER TABLE t ADD COLUMN x int;\nSELECT pg_sleep(60);\n")
    process, started = _start([command, "--setup", str(setup), str(migration)], new_session=True)
    try:
        os.killpg(process.pid, signal.SIGINT)  # the whole foreground group, as a tty does
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    message = stderr.decode(errors="replace").strip()
    assert process.returncode == 130, message
    assert len(message.splitlines()) == 1 and "interrupted" in message, message
    assert gone(started), "the server outlived zdlint"


def test_the_run_after_a_killed_one_removes_its_run_directory(tmp_path):
    from zdlint.pg.server import RUN_PREFIX, sweep_stale_run_dirs

    migration = tmp_path / "slow.sql"
    migration.write_text("SELECT pg_sleep(60);\n")
    before = set(Path(tempfile.gettempdir()).glob(RUN_PREFIX + "*"))
    process, started = _start(["trace", str(migration)], new_session=True)
    (run_dir,) = set(Path(tempfile.gettempdir()).glob(RUN_PREFIX + "*")) - before
    assert (run_dir / "owner").read_text() == f"{process.pid}\n"
    process.kill()  # SIGKILL: no finally runs, the run directory stays
    process.communicate(timeout=30)
    assert gone(started)  # the server follows its parent (PR_SET_PDEATHSIG)
    assert run_dir.exists()
    deadline = time.monotonic() + 20  # the server's own children exit a moment later
    while time.monotonic() < deadline and run_dir.exists():
        sweep_stale_run_dirs(Path(tempfile.gettempdir()))
        time.sleep(0.1)
    assert not run_dir.exists()
