"""Clients of external systems, one each: Kubernetes (:mod:`.kube`).

They know nothing of the platform's features and import only the core.
"""
