"""GitOps with Argo CD (``gitops up|status|down``) and the release loop that feeds it
(``release``: commit the image to the environment branch, revert it when unhealthy)."""
