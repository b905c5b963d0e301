"""The portable pipeline: image, deploy, load test, drills, GitOps, policy and infra.

It works against any kubeconfig; the local substrate is one provider of a cluster.
"""
