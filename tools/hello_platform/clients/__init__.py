"""Clients of external systems (Kubernetes, Helm, OCI registries); they import only the core."""
