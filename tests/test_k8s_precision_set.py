"""The hand-labelled Kubernetes precision set (benchmarks/precision-k8s) is well formed,
labels every finding of a default run, and holds its precision.

It is read against ../shared/corpus/k8s; without the corpus these tests skip.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from zdlint.catalogue import load_catalogue

PRECISION = Path(__file__).resolve().parent.parent / "benchmarks" / "precision-k8s"
# The figure of the labelled set today: raise it when precision improves, never lower it.
PRECISION_FLOOR = 0.79


def _score_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("precision_k8s_score", PRECISION / "score.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


score = _score_module()
CORPUS: Path = score.DEFAULT_CORPUS
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared/corpus/k8s is absent")


def _sources() -> dict[str, Path]:
    """<repository>/<path in the repository> -> the corpus file holding it."""
    sources = {}
    for repository in score.REPOSITORIES:
        for line in (CORPUS / repository / "index.jsonl").read_text().splitlines():
            row = json.loads(line)
            sources[f"{repository}/{row['source']}"] = CORPUS / repository / row["out"]
    return sources


@needs_corpus
@pytest.mark.parametrize("name", ["findings.tsv", "before.tsv"])
def test_every_label_names_a_real_line_a_known_rule_a_verdict_and_a_reason(name):
    codes = {rule.code for rule in load_catalogue().rules}
    sources = _sources()
    labels = score.load_labels(PRECISION / name)
    assert labels
    assert len({label.key for label in labels}) == len(labels), "a finding is labelled twice"
    for label in labels:
        assert label.file in sources, label
        lines = sources[label.file].read_text(encoding="utf-8").count("\n") + 1
        assert 1 <= label.line <= lines, label
        assert label.rule in codes and label.label in score.VERDICTS, label
        assert label.reason.strip() and "\t" not in label.reason, label


@pytest.fixture(scope="module")
def outcome():
    return score.evaluate(CORPUS)


@needs_corpus
def test_every_finding_of_the_default_run_is_labelled_and_every_label_is_found(outcome):
    assert [(f.file, f.line, f.rule) for f in outcome.new] == []
    assert [label.key for label in outcome.gone] == []


@needs_corpus
def test_precision_holds_its_floor_and_no_finding_is_false(outcome):
    assert outcome.totals["FALSE"] == 0, [lab for lab, _ in outcome.not_true]
    assert outcome.precision >= PRECISION_FLOOR, f"{outcome.precision:.1%}"
