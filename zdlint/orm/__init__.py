"""Python migration front ends (Django, Alembic): render a migration module's operations
to the SQL they run on PostgreSQL, each statement tied to the line of the operation that
produced it, so the SQL rule engine can check it and report on the Python line.

Nothing here imports Django or Alembic at module level: the SQL path never needs them.
"""
