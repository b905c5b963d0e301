"""The local substrate: the embedded node, its daemons, apt, base image (no pipeline)."""
