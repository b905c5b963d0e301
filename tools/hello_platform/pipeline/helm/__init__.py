"""A service chart's static checks: lint, render, and schema-validate every values profile.

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
    svc = catalogue.service()  # hello_platform.core.catalogue: the --service entry
    manifests = helm.render(helm.helm_binary(), svc, values_files=helm.profile_files(svc, "local"))
"""

from hello_platform.clients.helm import HELM_HINT, helm_failure
from hello_platform.pipeline.helm.chart import (
    CRD_KINDS,
    DEFAULT_PROFILE,
    FEATURES_SETS,
    REQUESTS_SETS,
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
    INSTANCE_LABEL,
    documents,
    front_service,
    instance_selector,
    named,
    test_pods,
)
from hello_platform.pipeline.helm.schemas import (
    PINNED_CRDS,
    PINNED_KINDS,
    SCHEMA_FORMAT,
    Validation,
    crd_schemas,
    custom_schemas,
    ensure_schemas,
    kind_suffix,
    openapi_document,
    openapi_to_schemas,
    schema_dir,
    schema_root,
    validate,
)
from hello_platform.pipeline.helm.verify import (
    EXTRA_VARIANTS,
    Variant,
    check,
    dry_run_namespace,
    running_cluster,
    variant_names,
    variants,
)

__all__ = [
    "CRD_KINDS",
    "DEFAULT_PROFILE",
    "EXTRA_VARIANTS",
    "FEATURES_SETS",
    "HELM_HINT",
    "INSTANCE_LABEL",
    "PINNED_CRDS",
    "PINNED_KINDS",
    "REQUESTS_SETS",
    "SCHEMA_FORMAT",
    "Validation",
    "Variant",
    "check",
    "check_files",
    "crd_schemas",
    "custom_schemas",
    "documents",
    "dry_run_namespace",
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
    "running_cluster",
    "schema_dir",
    "schema_root",
    "template",
    "test_pods",
    "validate",
    "values_args",
    "variant_names",
    "variants",
]
