"""Every example of every rule, run as `zdlint check` would (the Fixit model).

A bad example must produce its rule's finding; a good example must produce no finding
at all, so the recommended patterns are clean of every default rule.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import lint
from zdlint.catalogue import load_catalogue

CATALOGUE = load_catalogue()
EXAMPLES = [
    pytest.param(rule, example, id=f"{rule.code}-{example.kind}{i}")
    for rule in CATALOGUE
    for i, example in enumerate(rule.examples)
]


def _python_findings(example, settings, tmp_path):
    """A Python migration is rendered with its project: written as a real package."""
    target = tmp_path / example.path
    for folder in target.relative_to(tmp_path).parents:
        if folder != Path("."):
            (tmp_path / folder).mkdir(parents=True, exist_ok=True)
            (tmp_path / folder / "__init__.py").touch()
    target.write_text(example.source, encoding="utf-8")
    return lint(example.source, target, **settings)


def _findings(rule, example, tmp_path):
    path = example.path or ("example.sql" if rule.language == "sql" else "example.yaml")
    data = example.source.encode(example.encoding)
    # options are config settings for this example (e.g. extend_select for an advisory rule)
    settings = {k: tuple(v) if isinstance(v, list) else v for k, v in example.options.items()}
    if example.pg_version is not None:
        settings["pg_version"] = example.pg_version
    if example.setup and rule.language in ("sql", "python"):
        # the schema the example assumes is the schema model's too, as a `--schema` seed
        seed = tmp_path / "setup.sql"
        seed.write_text(example.setup, encoding="utf-8")
        settings["schema"] = seed
    if rule.language == "python":
        return _python_findings(example, settings, tmp_path)
    return lint(data, path, **settings)


@pytest.mark.parametrize(("rule", "example"), EXAMPLES)
def test_rule_example(rule, example, tmp_path):
    findings = _findings(rule, example, tmp_path)
    if example.kind == "bad":
        assert rule.code in [f.code for f in findings], findings
        for finding in findings:
            assert "{" not in finding.message, finding.message
    else:
        assert findings == [], [f"{f.code} {f.message}" for f in findings]
