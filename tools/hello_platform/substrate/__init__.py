"""The local substrate: the embedded node, its daemons, apt, host footprint, base image.

The pipeline may use it as a provider (the default cluster and registry); it never
imports the pipeline.
"""
