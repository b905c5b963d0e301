"""Promotion by git: ``hello-platform promote --from ENV --to ENV`` commits the digest that
passed in one GitOps environment into the next one's ``image.yaml`` (copied by digest into
its registry when that is another one). The API is :mod:`.promotion`; ``cli.py`` holds the
flags. What passed is recorded by the release loop (:mod:`..gitops.records`).
"""
