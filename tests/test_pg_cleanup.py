"""trace stops its throwaway server when it is interrupted or terminated."""

from __future__ import annotations

import signal
import subprocess
import sys
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


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_trace_stops_its_server_when_signalled(tmp_path, signum):
    migration = tmp_path / "slow.sql"
    migration.write_text("SELECT pg_sleep(60);\n")
    process = subprocess.Popen(
        [sys.executable, "-c", "from zdlint.cli import run; run()", "trace", str(migration)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        started: set[int] = set()
        while time.monotonic() < deadline and not started and process.poll() is None:
            started = postgres_children(process.pid)
            time.sleep(0.05)
        if not started:
            _, stderr = process.communicate(timeout=30)
            pytest.fail(f"trace never started a server: {stderr.decode(errors='replace')}")
        time.sleep(1.0)  # let it reach the slow statement
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode != 0
    assert b"Traceback" not in stderr
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and alive(started):
        time.sleep(0.1)
    assert not alive(started), "the server outlived zdlint"
