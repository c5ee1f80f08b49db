"""The SQL side of zdlint: parsing, migration state and the checks."""
