"""Progressive delivery with Argo Rollouts: the controller as an add-on of the cluster
(:mod:`.addon`), and what became of a release's Rollout (:mod:`.outcome`: promoted, aborted
and why, or still going), which the local release watches and rolls back on abort
(:mod:`.watch`)."""
