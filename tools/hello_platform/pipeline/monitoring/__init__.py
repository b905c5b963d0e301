"""Request-rate autoscaling on the embedded cluster: Prometheus and KEDA, pinned."""
