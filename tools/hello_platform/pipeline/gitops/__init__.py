"""GitOps with Argo CD on the embedded cluster, and the release loop that feeds it.

``hello-platform gitops up|status|down`` installs Argo CD (built here, v3.2.11) from
upstream's core-install manifests, serves this repository to it with ``git daemon`` and
applies the app of apps in deploy/argocd; ``hello-platform release`` builds and pushes the
image and commits its tag and digest to the environment branch Argo CD tracks. The API is
:mod:`.lifecycle` (``up``, ``status``, ``down``) and :mod:`.outcome` (the release loop,
which owns the outcome: promoted, or reverted in git); ``cli.py`` holds the flags.
"""
