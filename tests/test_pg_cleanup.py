"""trace stops its throwaway server when it is interrupted or terminated."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


def postgres_pids() -> set[int]:
    pids = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")[0]
        except OSError:
            continue
        if command.endswith(b"postgres"):
            pids.add(int(entry.name))
    return pids


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_trace_stops_its_server_when_signalled(tmp_path, signum):
    migration = tmp_path / "slow.sql"
    migration.write_text("SELECT pg_sleep(60);\n")
    before = postgres_pids()
    process = subprocess.Popen(
        [sys.executable, "-c", "from zdlint.cli import run; run()", "trace", str(migration)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (postgres_pids() - before):
            time.sleep(0.05)
        started = postgres_pids() - before
        assert started, "trace never started a server"
        time.sleep(1.0)  # let it reach the slow statement
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode != 0
    assert b"Traceback" not in stderr
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (started & postgres_pids()):
        time.sleep(0.1)
    assert not (started & postgres_pids()), "the server outlived zdlint"
