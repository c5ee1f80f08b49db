"""What each output format keeps of a checked file until the report is written."""

from __future__ import annotations

import pytest

from tests.test_reporters import CATALOGUE, sample_reports
from zdlint.report import preparer, render

NO_TEXT = ("concise", "json", "json-lines", "github", "junit")


@pytest.mark.parametrize("fmt", NO_TEXT)
def test_formats_that_never_show_the_files_keep_no_text_and_render_the_same(fmt: str) -> None:
    prepare = preparer(fmt)
    assert prepare is not None
    prepared = [prepare(report) for report in sample_reports()]
    assert all(report.text is None for report in prepared)
    assert [r.findings for r in prepared] == [r.findings for r in sample_reports()]
    assert render(fmt, prepared, CATALOGUE) == render(fmt, sample_reports(), CATALOGUE)


@pytest.mark.parametrize("fmt", ["full", "sarif", "gitlab"])
def test_formats_that_read_the_files_keep_their_text(fmt: str) -> None:
    # code frames show it; SARIF and GitLab fingerprint the statement's text
    prepare = preparer(fmt)
    prepared = [prepare(r) for r in sample_reports()] if prepare else sample_reports()
    assert [r.text for r in prepared] == [r.text for r in sample_reports()]
