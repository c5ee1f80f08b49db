"""The C-encoded indented JSON is byte for byte what `json.dumps(indent=2)` writes."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from tests.test_reporters import CATALOGUE, MIGRATION, SET_NOT_NULL, sample_reports
from zdlint.findings import FileReport
from zdlint.report import render
from zdlint.report.json_report import finding_object
from zdlint.report.json_text import dumps
from zdlint.report.sarif import sarif_log
from zdlint.report.summary import Summary

# Strings the encoders escape differently with and without ensure_ascii.
AWKWARD = ["", "plain", 'quote " and \\ backslash', "tab\tnew\nline", "é ü 日本", "\u2028\x85\x00"]


def random_value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 3 or roll < 0.4:
        return rng.choice([*AWKWARD, 0, -7, 2.5, 1e300, True, False, None])
    if roll < 0.7:
        return {
            rng.choice(AWKWARD) + str(i): random_value(rng, depth + 1)
            for i in range(rng.randint(0, 4))
        }
    return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]


@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_random_nested_values_encode_as_the_standard_indented_encoder_does(
    ensure_ascii: bool,
) -> None:
    rng = random.Random(17)
    for _ in range(2000):
        value = random_value(rng)
        assert dumps(value, ensure_ascii=ensure_ascii) == json.dumps(
            value, indent=2, ensure_ascii=ensure_ascii
        )


def test_empty_containers_stay_on_one_line() -> None:
    value = {"a": [], "b": {}, "c": [[], {}]}
    assert dumps(value, ensure_ascii=False) == json.dumps(value, indent=2)


def test_the_json_report_is_what_the_standard_indented_encoder_wrote() -> None:
    reports = sample_reports()
    document = json.loads(render("json", reports, CATALOGUE))
    assert render("json", reports, CATALOGUE) == (
        json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    )
    assert document["findings"][0] == finding_object(SET_NOT_NULL)
    assert document["summary"] == Summary.of(reports).as_dict()


def test_the_sarif_log_is_what_the_standard_indented_encoder_wrote() -> None:
    reports = [*sample_reports(), FileReport("migrations/0004_ü.sql", (SET_NOT_NULL,), MIGRATION)]
    expected = json.dumps(sarif_log(reports, CATALOGUE), indent=2, ensure_ascii=False) + "\n"
    assert render("sarif", reports, CATALOGUE) == expected
