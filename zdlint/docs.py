"""Rule pages in `docs/rules/`, generated from the catalogue (`python -m zdlint.docs`)."""

from __future__ import annotations

import sys
from pathlib import Path

from zdlint.catalogue import Catalogue, Rule, load_catalogue
from zdlint.locks import lock_mode

DOCS_DIR = Path(__file__).resolve().parent.parent / "docs" / "rules"


def _versions(rule: Rule) -> str:
    if rule.pg_min and rule.pg_max:
        return f"PostgreSQL {rule.pg_min} to {rule.pg_max}"
    if rule.pg_min:
        return f"PostgreSQL {rule.pg_min} and later"
    if rule.pg_max:
        return f"PostgreSQL {rule.pg_max} and earlier"
    return "all supported PostgreSQL versions (11–18)"


def _claim(rule: Rule) -> list[str]:
    claim = rule.claim
    lines = []
    if claim.lock:
        mode = lock_mode(claim.lock)
        lines.append(f"- Lock: **{mode.sql_name}** (`{mode.name}`), which blocks {mode.blocks}")
    if claim.rejected:
        lines.append("- PostgreSQL rejects the statement: the migration fails")
    if claim.lock or claim.rewrite or claim.scan:
        lines.append(f"- Rewrites the table: {'yes' if claim.rewrite else 'no'}")
        lines.append(f"- Scans the table: {'yes' if claim.scan else 'no'}")
    return lines


def _fence(text: str, language: str) -> list[str]:
    return [f"```{language}", text.rstrip("\n"), "```"]


def rule_markdown(rule: Rule) -> str:
    lang = rule.language
    out = [f"# {rule.code} {rule.name}", "", f"{rule.summary}.", ""]
    out += [
        f"- Severity: {rule.severity.label}",
        f"- Category: {rule.category}",
        *([f"- Applies to: {_versions(rule)}"] if rule.language == "sql" else []),
        f"- Enabled by default: {'yes' if rule.enabled else 'no'}",
        f"- Fixable with `zdlint fix`: {'yes' if rule.fixable else 'no'}",
        *_claim(rule),
        *[
            f"- Reported instead of {code} when both fire on one statement"
            for code in rule.supersedes
        ],
        "",
        "## What it does",
        "",
        rule.what,
        "",
        "## Why is this bad?",
        "",
        rule.why,
        "",
        "## Example",
        "",
    ]
    for example in rule.bad_examples:
        if example.encoding != "utf-8":
            out += [f"A file saved as {example.encoding} holding:", ""]
        out += _fence(example.source, lang) + [""]
    out += ["## Use instead", "", rule.instead, ""]
    for example in rule.good_examples:
        out += _fence(example.source, lang) + [""]
    if rule.fixable and rule.fix_safety:
        out += ["## Fix safety", "", rule.fix_safety, ""]
    if rule.references:
        out += ["## References", ""] + [f"- <{ref}>" for ref in rule.references] + [""]
    return "\n".join(out)


def index_markdown(catalogue: Catalogue) -> str:
    out = ["# Rules", "", "Generated from `rules/*.toml` by `python -m zdlint.docs`.", ""]
    out += ["| Code | Name | Severity | Fix | Summary |", "|---|---|---|---|---|"]
    for rule in catalogue:
        fix = "yes" if rule.fixable else ""
        out.append(
            f"| [{rule.code}]({rule.code}.md) | {rule.name} | {rule.severity.label} | {fix} "
            f"| {rule.summary} |"
        )
    return "\n".join(out) + "\n"


def expected_pages(catalogue: Catalogue) -> dict[str, str]:
    pages = {f"{rule.code}.md": rule_markdown(rule) for rule in catalogue}
    pages["README.md"] = index_markdown(catalogue)
    return pages


def write_pages(directory: Path = DOCS_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    pages = expected_pages(load_catalogue())
    for stale in directory.glob("*.md"):
        if stale.name not in pages:
            stale.unlink()
    written = []
    for name, text in pages.items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


if __name__ == "__main__":
    changed = write_pages()
    print(f"{len(changed)} rule page(s) written to {DOCS_DIR}", file=sys.stderr)
