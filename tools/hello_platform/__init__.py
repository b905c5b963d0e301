"""hello_platform: the importable, unit-tested glue behind the nox build graph.

Sessions in ``noxfile.py`` stay thin; everything that provisions tools, starts the
cluster, builds images or watches the HPA lives in this package.
"""
