"""A service chart's static checks (``hello-platform helm check``; the flags are in cli.py).

Every profile, plus variants that switch optional templates on, gets ``helm lint --strict``,
``helm template`` and kubeconform ``-strict`` against JSON schemas generated from the pinned
Kubernetes module's OpenAPI document (no schema download). The structural assertions over the
rendered manifests are pytest tests (``tools/tests/test_chart.py``, run by ``nox -s helm``).
"""

from hello_platform.pipeline.helm.chart import (
    helm_binary,
    kubeconform_binary,
    kubernetes_version,
    profile_files,
    render,
    template,
)
from hello_platform.pipeline.helm.names import (
    documents,
    front_service,
    instance_selector,
    named,
)
from hello_platform.pipeline.helm.schemas import ensure_schemas, validate
from hello_platform.pipeline.helm.verify import variants

__all__ = [
    "documents",
    "ensure_schemas",
    "front_service",
    "helm_binary",
    "instance_selector",
    "kubeconform_binary",
    "kubernetes_version",
    "named",
    "profile_files",
    "render",
    "template",
    "validate",
    "variants",
]
