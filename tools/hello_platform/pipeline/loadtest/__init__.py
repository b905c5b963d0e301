"""The load test: prove that the HPA scales the service up and back down.

``--mode cpu`` (default) proves the chart's CPU HPA; ``--mode requests`` the HPA that KEDA
manages for the chart's ScaledObject (request rate per pod, read from Prometheus).

Runs Locust (``loadtests/``) against the service on 127.0.0.1 while sampling the HPA, then
asserts scale-up, peak replicas, scale-down and failures, and writes a plot, a JSON summary
and a markdown report with sizing advice under ``out/loadtest/<run>/``.

The API is :func:`runner.run` over :class:`runner.Options`; ``cli.py`` holds the flags of
``hello-platform loadtest``.
"""
