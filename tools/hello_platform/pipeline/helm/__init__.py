"""A service chart's static checks (``hello-platform helm check``; the flags are in cli.py).

Every profile, plus variants that switch optional templates on, gets ``helm lint --strict``,
``helm template`` and kubeconform ``-strict`` against JSON schemas generated from the pinned
Kubernetes module's OpenAPI document (no schema download). The structural assertions over the
rendered manifests are pytest tests (``tools/tests/test_chart.py``, run by ``nox -s helm``).
"""

from hello_platform.clients.helm import helm_failure
from hello_platform.pipeline.helm.chart import (
    FEATURES_SETS,
    check_files,
    helm_binary,
    kubeconform_binary,
    kubernetes_version,
    lint,
    parse_set,
    profile_files,
    profiles,
    render,
    template,
    values_args,
)
from hello_platform.pipeline.helm.names import (
    documents,
    front_service,
    instance_selector,
    named,
    test_pods,
)
from hello_platform.pipeline.helm.schemas import (
    PINNED_CRDS,
    SCHEMA_FORMAT,
    ensure_schemas,
    kind_suffix,
    openapi_document,
    openapi_to_schemas,
    validate,
)
from hello_platform.pipeline.helm.verify import variants

__all__ = [
    "FEATURES_SETS",
    "PINNED_CRDS",
    "SCHEMA_FORMAT",
    "check_files",
    "documents",
    "ensure_schemas",
    "front_service",
    "helm_binary",
    "helm_failure",
    "instance_selector",
    "kind_suffix",
    "kubeconform_binary",
    "kubernetes_version",
    "lint",
    "named",
    "openapi_document",
    "openapi_to_schemas",
    "parse_set",
    "profile_files",
    "profiles",
    "render",
    "template",
    "test_pods",
    "validate",
    "values_args",
    "variants",
]
