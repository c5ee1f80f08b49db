"""Jinja2 templates for fix steps: `rules/<CODE>-<name>.fix.sql.j2`, beside each rule.

A template holds one macro per kind of step; a planner decides the steps and their
transaction modes and calls the macros for the SQL text. Shared pieces (the batched
backfill) live in `rules/*.fix.sql.j2` files without a rule code and are imported.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2

from zdlint.catalogue import rules_dir
from zdlint.fix.sql_text import quote_ident
from zdlint.sql.names import quote_literal


class TemplateMissing(LookupError):
    """A fixable rule has no template; the catalogue and the templates disagree."""


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(rules_dir())),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # noqa: S701 - SQL, not HTML; identifiers go through `ident`
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["ident"] = quote_ident
    env.filters["literal"] = quote_literal
    return env


@cache
def template_name(code: str) -> str:
    """The template file of a rule code (`ZD102` -> `ZD102-….fix.sql.j2`)."""
    matches = sorted(rules_dir().glob(f"{code}-*.fix.sql.j2"))
    if not matches:
        raise TemplateMissing(f"rule {code} is fixable but {code}-*.fix.sql.j2 is missing")
    return matches[0].name


def render(code: str, macro: str, **context: Any) -> str:
    """The SQL of one step: macro `macro` of rule `code`'s template, without a final `;`."""
    module = environment().get_template(template_name(code)).module
    function = getattr(module, macro, None)
    if function is None:
        raise TemplateMissing(f"{template_name(code)} has no macro {macro!r}")
    accepted = {k: v for k, v in context.items() if k in function.arguments}
    return str(function(**accepted)).strip().rstrip(";").rstrip()
