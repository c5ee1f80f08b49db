"""zdlint: zero-downtime checks for PostgreSQL migrations and Kubernetes rollouts."""

__version__ = "0.1.0"
