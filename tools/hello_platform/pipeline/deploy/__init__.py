"""Deploy: build, push and release a service (``--service``, from the catalogue) with Helm,
then prove it.

Steps (each announced, each failure one sentence with what to do):

1. check the arguments, and render the chart with every values file and ``--set`` given
   (a typo'd key or malformed file fails here, before anything is built or deployed);
2. the cluster: the embedded one (``cluster.ensure_up()``, started if down) or
   ``--kubeconfig PATH [--context NAME]``;
3. ``image.build(service, push=True)``: the image, pushed to the local registry or
   ``--registry`` with its login (or ``--image REF``: an image already pushed where the
   cluster pulls from, e.g. ECR for EKS; nothing is built);
4. the namespace, labelled Pod Security ``restricted`` (enforce, audit, warn), and, when a
   login was given (``--registry-username``), the ``kubernetes.io/dockerconfigjson`` pull
   Secret ``<release>-registry`` the chart's ``imagePullSecrets`` names;
5. ``helm upgrade --install --wait --atomic`` (``--rollback-on-failure`` on a helm that has
   it) with a timeout: a release whose pods never become Ready is rolled back, and since the
   Deployment's RollingUpdate has ``maxUnavailable: 0`` the previous pods serve throughout;
6. ``helm test`` (the chart's test pods, found among the release's hooks, ask the Service
   for /readyz, / and /version);
7. on the embedded cluster (whose node is this machine), a smoke request through the NodePort
   on 127.0.0.1: ``GET /`` and ``GET /version``, whose ``revision`` must be the one just built;
8. the URL, and how to reach the service from this machine.

The API (``cli.py`` holds the flags)::

    from hello_platform.pipeline import deploy
    result = deploy.deploy(deploy.Options(service=catalogue.service("NAME"), namespace="web"))

Resource names (the Service, the test pod) are read from the installed release (``helm get
manifest``/``hooks``), never re-derived from the chart's naming rule.
"""

from hello_platform.pipeline.deploy.flow import Deps, Result, deploy, how_to_reach, http_get, smoke
from hello_platform.pipeline.deploy.inputs import Image, Options, options
from hello_platform.pipeline.deploy.release import (
    Kube,
    release_objects,
    release_status,
    run_tests,
    upgrade,
)

__all__ = [
    "Deps",
    "Image",
    "Kube",
    "Options",
    "Result",
    "deploy",
    "how_to_reach",
    "http_get",
    "options",
    "release_objects",
    "release_status",
    "run_tests",
    "smoke",
    "upgrade",
]
