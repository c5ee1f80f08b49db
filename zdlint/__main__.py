"""`python -m zdlint`: the same command line as the `zdlint` script."""

from zdlint.cli import run

run()
