"""Time from a keystroke (didChange) to its publishDiagnostics in `zdlint server`.

A synthetic folder of earlier migrations (benchmarks/corpus_gen.py) gives the file a
schema history; the edited file is a typical migration of a dozen statements. The
figure is the round trip a client sees: the message out, the check, the diagnostics
back. Target: at most 20 ms. Run by hand: `python benchmarks/lsp_latency.py [--runs N]`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.corpus_gen import generate  # noqa: E402
from tests.lsp_client import LspClient  # noqa: E402

TARGET_MS = 20.0
TYPICAL = """-- Add billing columns and their index
SET lock_timeout = '3s';
CREATE TABLE invoices (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id bigint NOT NULL,
    total numeric(12, 2) NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE users ADD COLUMN plan text;
ALTER TABLE users ADD COLUMN trial_ends_at timestamptz;
ALTER TABLE invoices ADD CONSTRAINT invoices_account_fk
    FOREIGN KEY (account_id) REFERENCES accounts (id) NOT VALID;
ALTER TABLE invoices VALIDATE CONSTRAINT invoices_account_fk;
CREATE INDEX invoices_account ON invoices (account_id);
ALTER TABLE users ALTER COLUMN plan SET DEFAULT 'free';
UPDATE users SET plan = 'free' WHERE plan IS NULL;
ALTER TABLE users ALTER COLUMN plan SET NOT NULL;
COMMENT ON COLUMN users.plan IS 'billing plan';
"""


def measure(runs: int, history: int) -> list[float]:
    """Milliseconds from didChange to publishDiagnostics, for `runs` edits."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files, _ = generate(root / "migrations", history)
        path = root / "migrations" / "000" / "V999999__billing.sql"
        path.write_text(TYPICAL)
        client = LspClient(root)
        try:
            client.start(root)
            uri = path.as_uri()
            document = {"uri": uri, "languageId": "sql", "version": 1, "text": TYPICAL}
            client.notify("textDocument/didOpen", {"textDocument": document})
            client.diagnostics(uri)  # the first check replays the history
            timings = []
            for version in range(2, runs + 2):
                text = TYPICAL + "-- edit\n" * (version % 3)
                change = {"textDocument": {"uri": uri, "version": version}}
                change["contentChanges"] = [{"text": text}]  # type: ignore[assignment]
                start = time.perf_counter()
                client.notify("textDocument/didChange", change)
                client.diagnostics(uri)
                timings.append((time.perf_counter() - start) * 1000)
        finally:
            client.stop()
    print(f"history: {files} earlier migrations ({history} statements)")
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--history", type=int, default=2000, help="statements before the file")
    args = parser.parse_args()
    timings = measure(args.runs, args.history)
    timings.sort()
    median = statistics.median(timings)
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(f"didChange -> publishDiagnostics over {len(timings)} edits:")
    print(f"  median {median:.1f} ms, p95 {p95:.1f} ms, max {timings[-1]:.1f} ms")
    print(f"  target {TARGET_MS:.0f} ms: {'met' if median <= TARGET_MS else 'MISSED'} (median)")


if __name__ == "__main__":
    main()
