"""The hello chart's static checks: lint, render, and schema-validate every values profile.

``hello-platform helm check`` runs, for every profile (``default``, ``local``, ``eks``) and
for a ``features`` variant that switches every optional template on:

1. ``helm lint --strict`` (values checked against ``values.schema.json``);
2. ``helm template`` with the pinned Kubernetes version;
3. kubeconform ``-strict`` against JSON schemas of that Kubernetes version.

There is no schema download here: the schemas are generated from the Kubernetes OpenAPI
(v2) document that ships in the ``k8s.io/kubernetes`` Go module of the pinned version
(``api/openapi-spec/swagger.json``, fetched with ``go mod download``), converted to
kubeconform's "standalone-strict" layout and cached under ``cache_dir()/kube-schemas``.

The structural assertions over the rendered manifests (probes, limits, securityContext,
selectors ...) and the schema negative cases are pytest tests (``tools/tests/test_chart.py``),
which ``nox -s helm`` runs with helm provisioned.

The API (``cli.py`` holds the flags)::

    from hello_platform.pipeline import helm
    manifests = helm.render(helm.helm_binary(), values_files=helm.profile_files("local"))
"""

from hello_platform.pipeline.helm.chart import (
    CHART_DIR,
    CRD_KINDS,
    FEATURES_SETS,
    HELM_HINT,
    PROFILES,
    RELEASE,
    REQUESTS_SETS,
    helm_binary,
    helm_failure,
    kubeconform_binary,
    kubernetes_version,
    lint,
    parse_set,
    profile_files,
    render,
    values_args,
)
from hello_platform.pipeline.helm.schemas import (
    SCHEMA_FORMAT,
    Validation,
    ensure_schemas,
    kind_suffix,
    openapi_document,
    openapi_to_schemas,
    schema_dir,
    schema_root,
    validate,
)
from hello_platform.pipeline.helm.verify import (
    DRY_RUN_NAMESPACE,
    Variant,
    check,
    running_cluster,
    variants,
)

__all__ = [
    "CHART_DIR",
    "CRD_KINDS",
    "DRY_RUN_NAMESPACE",
    "FEATURES_SETS",
    "HELM_HINT",
    "PROFILES",
    "RELEASE",
    "REQUESTS_SETS",
    "SCHEMA_FORMAT",
    "Validation",
    "Variant",
    "check",
    "ensure_schemas",
    "helm_binary",
    "helm_failure",
    "kind_suffix",
    "kubeconform_binary",
    "kubernetes_version",
    "lint",
    "openapi_document",
    "openapi_to_schemas",
    "parse_set",
    "profile_files",
    "render",
    "running_cluster",
    "schema_dir",
    "schema_root",
    "validate",
    "values_args",
    "variants",
]
