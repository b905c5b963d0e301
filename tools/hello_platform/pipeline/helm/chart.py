"""The chart and the pinned helm: profiles, values arguments, `helm lint`, `helm template`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from hello_platform.clients.helm import Helm
from hello_platform.core.catalogue import Service
from hello_platform.core.errors import PlatformError

#: The profile of values.yaml alone; a service's other profiles are its catalogue entry's
#: (``values-<profile>.yaml`` in its chart).
DEFAULT_PROFILE = "default"
#: A render of every optional template (on top of the default profile), for the checks.
FEATURES_SETS: tuple[str, ...] = (
    "ingress.enabled=true",
    "ingress.tlsSecretName=tls",
    "networkPolicy.enabled=true",
    "serviceMonitor.enabled=true",
    "prometheusRule.enabled=true",
    "metrics.podsService=true",
    "autoscaling.enabled=false",
    "service.type=NodePort",
    "service.nodePort=30080",
    "faults.unready=true",
    "faults.testFailure=true",
)
#: Kinds without a schema in the Kubernetes OpenAPI (CRDs); kubeconform skips them.
CRD_KINDS: tuple[str, ...] = ("ServiceMonitor", "PrometheusRule", "ScaledObject")


def kubernetes_version() -> str:
    """The pinned Kubernetes version without the "v" (``1.34.4``), from toolchain.toml."""
    from hello_platform.toolchain import load

    return load().tools["kubernetes"].version.removeprefix("v")


def helm_binary() -> Path:
    from hello_platform.toolchain import resolve

    return resolve("helm")


def kubeconform_binary() -> Path:
    from hello_platform.toolchain import resolve

    return resolve("kubeconform")


def profiles(service: Service) -> tuple[str, ...]:
    return (DEFAULT_PROFILE, *service.profiles)


def profile_files(service: Service, profile: str) -> list[Path]:
    """The values files of ``profile`` (on top of values.yaml, which helm always reads)."""
    if profile not in profiles(service):
        raise PlatformError(
            f"service '{service.name}' has no values profile '{profile}'",
            hint=f"use one of: {', '.join(profiles(service))}",
        )
    return [] if profile == DEFAULT_PROFILE else [service.values_file(profile)]


def check_files(service: Service, profile: str) -> list[Path]:
    """The chart's ``ci/<profile>-values.yaml`` (chart-testing's convention): stand-ins the
    checks add for what a real deploy gives itself (an ACM certificate ARN)."""
    found = service.chart / "ci" / f"{profile}-values.yaml"
    return [found] if found.is_file() else []


def parse_set(item: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep or not key or not re.fullmatch(r"[A-Za-z0-9_.\[\]\\/-]+", key):
        raise PlatformError(
            f"'--set {item}' is not of the form key=value",
            hint="e.g. --set autoscaling.maxReplicas=3",
        )
    return key, value


def values_args(
    values_files: Iterable[Path],
    sets: Iterable[str] = (),
    set_strings: Mapping[str, str] | None = None,
) -> list[str]:
    """helm arguments for values files, ``--set`` items and ``--set-string`` pairs, in order."""
    args: list[str] = []
    for f in values_files:
        args += ["--values", str(f)]
    for item in sets:
        parse_set(item)
        args += ["--set", item]
    for key, value in (set_strings or {}).items():
        args += ["--set-string", f"{key}={value}"]
    return args


def lint(helm: Path, chart: Path, values_files: Sequence[Path], sets: Sequence[str] = ()) -> str:
    """``helm lint --strict`` of ``chart`` with these values; returns helm's report."""
    args = ["lint", "--strict", str(chart), *values_args(values_files, sets)]
    done = Helm(helm).run(
        *args, what="helm lint --strict", hint="fix the chart or the values it names"
    )
    return done.stdout


def template(
    helm: Path,
    chart: Path,
    release: str,
    *,
    namespace: str,
    values_files: Sequence[Path] = (),
    kube_version: str | None = None,
) -> str:
    """``helm template`` of any chart folder (an add-on's) with these values files."""
    args = ["template", release, str(chart), "--namespace", namespace, *values_args(values_files)]
    what = f"rendering the chart {chart.name}"
    return _template(helm, args, kube_version, what, "check the values files it names")


def render(
    helm: Path,
    service: Service,
    *,
    values_files: Sequence[Path] = (),
    sets: Sequence[str] = (),
    set_strings: Mapping[str, str] | None = None,
    release: str | None = None,
    namespace: str = "default",
    kube_version: str | None = None,
) -> str:
    """``helm template`` of the service's chart: the manifests this release (default: the
    service's) would apply, tests included."""
    args = ["template", release or service.release, str(service.chart), "--namespace", namespace]
    args += values_args(values_files, sets, set_strings)
    hint = "check the values files and --set items it names"
    return _template(helm, args, kube_version, "rendering the chart", hint)


def _template(helm: Path, args: list[str], kube_version: str | None, what: str, hint: str) -> str:
    version = ["--kube-version", kube_version] if kube_version else []
    return Helm(helm).run(*args, *version, what=what, hint=hint).stdout
