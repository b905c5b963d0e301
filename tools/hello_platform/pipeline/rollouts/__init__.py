"""Progressive delivery with Argo Rollouts: the controller add-on, Rollout outcomes and drills."""
