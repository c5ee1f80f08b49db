"""`--output-format json-lines`: one finding object per line, as in the `json` format."""

from __future__ import annotations

import json

from zdlint.catalogue import Catalogue
from zdlint.findings import FileReport
from zdlint.report import drop_text
from zdlint.report.json_report import finding_object
from zdlint.report.summary import sorted_findings

prepare = drop_text  # the text of the files is never shown


def render(reports: list[FileReport], catalogue: Catalogue, *, color: bool = False) -> str:
    # ASCII-only so that U+2028 and U+0085 in a message cannot split a record for readers
    # that split on every Unicode line break (Python's str.splitlines, for one).
    return "".join(
        json.dumps(finding_object(f), ensure_ascii=True) + "\n" for f in sorted_findings(reports)
    )
