"""`zdlint fix`: rewrite unsafe migration statements into safe expand/contract steps.

Findings of fixable rules carry a `Plan` (ordered steps, each with its transaction mode
and release phase) built by the rule family's planner in `planners/`; `layout` writes
the steps in the migration tool's file layout; `apply` shows, prints or writes them.
"""
