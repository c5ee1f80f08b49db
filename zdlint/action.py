"""What the GitHub Action (action.yml) runs: `python -m zdlint.action`.

It runs `zdlint check` on the paths given, judging only the files the pull request
changes (`--diff-base origin/<base branch>`), with annotations on the diff
(`--output-format github`); writes a job summary in Markdown (the findings per rule and
per file, and the `zdlint fix --diff` of the fixable ones) to $GITHUB_STEP_SUMMARY; and,
when asked, a SARIF file for code scanning. Its exit code is `zdlint check`'s.

Inputs come as environment variables, as the action passes them: ZDLINT_PATHS
(whitespace-separated, default `.`), ZDLINT_DIFF_BASE (default `origin/$GITHUB_BASE_REF`
on a pull request, none otherwise), ZDLINT_SARIF_FILE (write SARIF there when set),
ZDLINT_ARGS (more `check` options, whitespace-separated).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

SUMMARY_LIMIT = 200  # findings listed one by one; the table per rule counts them all


def _zdlint(*args: str) -> list[str]:
    return [sys.executable, "-m", "zdlint", *args]


def settings(env: Mapping[str, str]) -> tuple[list[str], list[str], list[str], str | None]:
    """(paths, diff-base options, other check options, SARIF file) from the inputs."""
    paths = env.get("ZDLINT_PATHS", "").split() or ["."]
    base = env.get("ZDLINT_DIFF_BASE", "").strip()
    if not base and env.get("GITHUB_BASE_REF"):
        base = f"origin/{env['GITHUB_BASE_REF']}"
    diff_base = ["--diff-base", base] if base else []
    extra = shlex.split(env.get("ZDLINT_ARGS", ""))
    sarif = env.get("ZDLINT_SARIF_FILE", "").strip() or None
    return paths, diff_base, extra, sarif


def run(env: Mapping[str, str] | None = None, cwd: Path | None = None) -> int:
    env = os.environ if env is None else env
    paths, diff_base, extra, sarif = settings(env)
    child_env = dict(env)
    # the annotations: workflow commands on standard output, which the runner reads
    annotations = subprocess.run(
        _zdlint("check", "--output-format", "github", *diff_base, *extra, *paths),
        cwd=cwd,
        env=child_env,
        stderr=subprocess.PIPE,
        text=True,
    )
    sys.stderr.write(annotations.stderr)
    exit_code = annotations.returncode
    report = subprocess.run(
        _zdlint("check", "--output-format", "json", "--exit-zero", *diff_base, *extra, *paths),
        cwd=cwd,
        env=child_env,
        capture_output=True,
        text=True,
    )
    findings: list[dict[str, Any]] = []
    if report.returncode == 0:
        findings = json.loads(report.stdout)["findings"]
    if sarif:
        subprocess.run(
            _zdlint("check", "--output-format", "sarif", "--exit-zero", "--output-file", sarif)
            + [*diff_base, *extra, *paths],
            cwd=cwd,
            env=child_env,
            check=False,
        )
        _set_output(env, "sarif-file", sarif)
    fixable = sorted({f["path"] for f in findings if f.get("fixable")})
    diff = ""
    if fixable:
        fixed = subprocess.run(
            _zdlint("fix", "--diff", *diff_base, *fixable),
            cwd=cwd,
            env=child_env,
            capture_output=True,
            text=True,
        )
        diff = fixed.stdout
    errors = annotations.stderr if exit_code == 2 else ""
    summary = markdown_summary(findings, diff, errors)
    target = env.get("GITHUB_STEP_SUMMARY")
    if target:
        with open(target, "a", encoding="utf-8") as out:
            out.write(summary)
    else:
        sys.stdout.write(summary)
    return exit_code


def _set_output(env: Mapping[str, str], name: str, value: str) -> None:
    target = env.get("GITHUB_OUTPUT")
    if target:
        with open(target, "a", encoding="utf-8") as out:
            out.write(f"{name}={value}\n")


def _cell(text: str) -> str:
    """Text for one cell of a Markdown table."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def markdown_summary(findings: Sequence[dict[str, Any]], diff: str, errors: str = "") -> str:
    """The job summary: counts, a table per rule, one per finding, and the fix diff."""
    lines = ["## zdlint", ""]
    if errors.strip():
        lines += ["zdlint could not check everything:", "", "```", errors.strip(), "```", ""]
    if not findings:
        lines += ["No findings in the files this change touches.", ""]
        return "\n".join(lines)
    files = {f["path"] for f in findings}
    severities = Counter(f["severity"] for f in findings)
    counts = ", ".join(
        f"{severities[s]} {s}" for s in ("error", "warning", "info") if severities[s]
    )
    lines += [f"{len(findings)} finding(s) in {len(files)} file(s) ({counts}).", ""]
    lines += ["| Rule | Severity | Findings | Files |", "| --- | --- | ---: | ---: |"]
    by_rule: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for finding in findings:
        by_rule.setdefault((finding["code"], finding["rule"]), []).append(finding)
    for (code, rule), found in sorted(by_rule.items()):
        where = len({f["path"] for f in found})
        lines.append(f"| `{code}` {rule} | {found[0]['severity']} | {len(found)} | {where} |")
    lines += ["", "| File | Line | Rule | Message |", "| --- | ---: | --- | --- |"]
    for finding in findings[:SUMMARY_LIMIT]:
        fix = " (fixable)" if finding.get("fixable") else ""
        lines.append(
            f"| {_cell(finding['path'])} | {finding['line']} | `{finding['code']}`{fix} "
            f"| {_cell(finding['message'])} |"
        )
    if len(findings) > SUMMARY_LIMIT:
        lines.append(f"| … | | | {len(findings) - SUMMARY_LIMIT} more |")
    lines.append("")
    if diff.strip():
        fixable = sum(1 for f in findings if f.get("fixable"))
        lines += [
            "<details><summary>"
            f"`zdlint fix` rewrites {fixable} fixable finding(s) like this</summary>",
            "",
            "```diff",
            diff.rstrip("\n"),
            "```",
            "",
            "</details>",
            "",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(run())
