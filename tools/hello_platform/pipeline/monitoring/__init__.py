"""Request-rate autoscaling on the embedded cluster: Prometheus (``monitoring``) and KEDA
(``keda``), both pinned in toolchain.toml, built or unpacked here and packed into
single-layer images. The API is :func:`stack.up` / :func:`stack.status`; ``cli.py`` holds
``hello-platform monitoring up|status`` (``nox -s monitoring``).
"""
