"""The Kubernetes manifest checker: load YAML with positions, model the objects, check."""
