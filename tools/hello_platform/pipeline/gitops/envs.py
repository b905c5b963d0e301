"""GitOps environments for other clusters (``deploy/argocd/envs/<env>``): their chart pins
(``charts.toml``), their Applications, and the offline render of what Argo CD will sync.

With no Helm repository in reach, a pinned chart is rendered from its Go module's copy
(``go mod download``, the ``h1:`` sum checked against the pin).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml

from hello_platform.core import paths
from hello_platform.core.errors import PlatformError

CHARTS_FILE = "charts.toml"
ENVS_DIR = "deploy/argocd/envs"
REMOTE_ENVS = ("eks",)
VALUES_REF = "$values/"
LOCAL = "local"
LOCAL_APPS = "deploy/argocd/apps"
T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class ChartPin:
    """A chart of charts.toml, or (no ``chart``) a kustomize tree: ``path`` at tag ``version``."""

    name: str
    repo: str
    version: str
    chart: str = ""
    digest: str = ""
    module: str = ""
    module_version: str = ""
    module_sum: str = ""
    path: str = ""


def load_table(root: Path, rel: str, table: str, kind: Callable[..., T]) -> dict[str, T]:
    """The entries of ``[table.NAME]`` in the TOML file ``rel`` as ``kind(name=NAME, ...)``."""
    data = tomllib.loads((root / rel).read_text())
    try:
        return {name: kind(name=name, **entry) for name, entry in data[table].items()}
    except TypeError as err:
        raise PlatformError(f"{rel} has an entry with an unknown key: {err}") from None


def load_pins(root: Path = paths.REPO_ROOT) -> dict[str, ChartPin]:
    return load_table(root, CHARTS_FILE, "charts", ChartPin)


def env_dir(env: str, root: Path = paths.REPO_ROOT) -> Path:
    return root / ENVS_DIR / env


def apps_dir(env: str, root: Path = paths.REPO_ROOT) -> Path:
    return root / LOCAL_APPS if env == LOCAL else env_dir(env, root) / "apps"


def applications(
    env: str, root: Path = paths.REPO_ROOT, *, optional: bool = True
) -> list[dict[str, Any]]:
    """``env``'s Applications; ``optional``: those in subfolders too (``directory.recurse``)."""
    found = []
    for path in sorted(apps_dir(env, root).glob("**/*.yaml" if optional else "*.yaml")):
        found += [d for d in yaml.safe_load_all(path.read_text()) if d]
    if not found:
        raise PlatformError(f"environment '{env}' has no Applications in {apps_dir(env, root)}")
    return found


def sources(app: Mapping[str, Any]) -> list[dict[str, Any]]:
    spec = app.get("spec") or {}
    if spec.get("sources"):
        return list(spec["sources"])
    return [spec["source"]] if spec.get("source") else []


def pin_of(source: Mapping[str, Any], pins: Mapping[str, ChartPin]) -> ChartPin | None:
    for pin in pins.values():
        if source.get("repoURL") == pin.repo and source.get("chart", "") == pin.chart:
            return pin
    return None


def _pinned_revision(name: str, src: Mapping[str, Any], pin: ChartPin) -> list[str]:
    what = pin.chart or pin.repo
    problems = []
    if str(src.get("targetRevision")) != pin.version:
        problems.append(f"{name}: {what} {src.get('targetRevision')}, pinned {pin.version}")
    if not pin.chart and src.get("path") != pin.path:
        problems.append(f"{name}: {what} path {src.get('path')}, pinned {pin.path}")
    return problems


def check_pins(apps: Sequence[Mapping[str, Any]], pins: Mapping[str, ChartPin]) -> list[str]:
    """Unpinned chart sources, sources off their pin, and pins no Application uses."""
    problems, used = [], set()
    for app in apps:
        name = app["metadata"]["name"]
        for src in sources(app):
            pin = pin_of(src, pins)
            if pin is None and "chart" in src:
                problems.append(f"{name}: chart {src['chart']} of {src['repoURL']} is not pinned")
            if pin is None:
                continue
            used.add(pin.name)
            problems += _pinned_revision(name, src, pin)
    unused = sorted(pins.keys() - used)
    problems += [f"{n}: pinned in {CHARTS_FILE} but no Application uses it" for n in unused]
    return problems


def module_tree(pin: ChartPin, marker: str, what: str) -> Path:
    """The pinned ``path`` (holding ``marker``) in its Go module, the sum checked; a module
    that is also a pinned tool is fetched with that tool's Go toolchain (its go.mod may need
    a newer Go)."""
    from hello_platform.pipeline.gitops.manifests import module_info
    from hello_platform.toolchain import pins as tool_pins

    go = [t.go_toolchain for t in tool_pins.load().tools.values() if t.module == pin.module]
    info = module_info(pin.module, pin.module_version, pinned=next(iter(go), ""))
    if info.get("Sum") != pin.module_sum:
        raise PlatformError(
            f"{pin.module}@{pin.module_version} has sum {info.get('Sum')}, "
            f"not the pinned {pin.module_sum}",
            hint=f"check the module, then update module_sum of [charts.{pin.name}]",
        )
    tree = Path(str(info["Dir"])) / pin.path
    if not (tree / marker).is_file():
        raise PlatformError(f"{pin.module}@{pin.module_version} has no {what} at {pin.path}")
    return tree


def module_kustomization(pin: ChartPin) -> Path:
    if pin.version != pin.module_version:
        raise PlatformError(
            f"[charts.{pin.name}] pins tag {pin.version} but module version {pin.module_version}",
            hint="a git pin's module is the same tag: make them equal",
        )
    return module_tree(pin, "kustomization.yaml", "kustomization")


def module_chart(pin: ChartPin) -> Path:
    chart = module_tree(pin, "Chart.yaml", "chart")
    found = yaml.safe_load((chart / "Chart.yaml").read_text()).get("version")
    if str(found) != pin.version:
        raise PlatformError(
            f"the chart at {pin.path} of {pin.module}@{pin.module_version} is {found}, "
            f"not the pinned {pin.version}"
        )
    return chart


@dataclass(frozen=True)
class Renderable:
    """One Application's offline render; with ``kustomize``, ``chart`` is the upstream
    tree's top folder, rendered with ``kubectl kustomize`` instead of helm."""

    app: str
    chart: Path
    release: str
    namespace: str
    values: tuple[Path, ...]
    kustomize: Mapping[str, Any] | None = None


def value_file(entry: str, chart: Path, root: Path) -> Path:
    if entry.startswith(VALUES_REF):
        return root / entry.removeprefix(VALUES_REF)
    return (chart / entry).resolve()


#: What of ``source.kustomize`` the offline render applies; anything else is refused.
KUSTOMIZE_KEYS = frozenset({"namespace", "images", "patches"})


def _image(ref: str) -> dict[str, str]:
    if "@" in ref:
        name, digest = ref.split("@", 1)
        return {"name": name, "digest": digest}
    name, sep, tag = ref.rpartition(":")
    if not sep or "/" in tag or "=" in ref:
        raise PlatformError(f"kustomize image '{ref}' is not NAME:TAG or NAME@DIGEST")
    return {"name": name, "newTag": tag}


def kustomization(name: str, options: Mapping[str, Any], base: str) -> dict[str, Any]:
    unknown = sorted(options.keys() - KUSTOMIZE_KEYS)
    if unknown:
        raise PlatformError(
            f"{name} sets kustomize {', '.join(unknown)}, which the offline check does not render",
            hint=f"use only {', '.join(sorted(KUSTOMIZE_KEYS))}, or teach envs.kustomization",
        )
    doc: dict[str, Any] = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [base],
        "images": [_image(str(i)) for i in options.get("images") or []],
        "patches": list(options.get("patches") or []),
    }
    if options.get("namespace"):
        doc["namespace"] = options["namespace"]
    return doc


def _kustomized(name: str, src: Mapping[str, Any], pin: ChartPin, namespace: str) -> Renderable:
    parts = Path(pin.path).parts
    top = module_kustomization(pin).parents[len(parts) - 1] / parts[0]
    doc = kustomization(name, src.get("kustomize") or {}, f"../{pin.path}")
    return Renderable(name, top, name, namespace, (), doc)


def renderable(
    app: Mapping[str, Any], pins: Mapping[str, ChartPin], root: Path = paths.REPO_ROOT
) -> Renderable | None:
    name = app["metadata"]["name"]
    srcs = [s for s in sources(app) if "ref" not in s]
    if len(srcs) != 1:
        raise PlatformError(f"{name} has {len(srcs)} chart sources, not one")
    (src,) = srcs
    namespace = str(app["spec"]["destination"]["namespace"])
    pin = pin_of(src, pins)
    if (pin is None and "chart" in src) or (pin is not None and not pin.module):
        return None
    if pin is not None and not pin.chart:
        return _kustomized(name, src, pin, namespace)
    chart = module_chart(pin) if pin is not None else root / src["path"]
    helm = src.get("helm") or {}
    values = tuple(value_file(v, chart, root) for v in helm.get("valueFiles") or [])
    missing = [str(v) for v in values if not v.is_file()]
    if missing:
        raise PlatformError(f"{name} names values files that do not exist: {', '.join(missing)}")
    return Renderable(name, chart, str(helm.get("releaseName") or name), namespace, values)
