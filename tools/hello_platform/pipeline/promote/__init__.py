"""Promotion by git: ``promote --from ENV --to ENV`` commits the digest that passed in one
GitOps environment into the next one's ``image.yaml``."""
