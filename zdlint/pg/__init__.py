"""The Postgres engine: a throwaway server, scratch databases, and per-statement traces."""
