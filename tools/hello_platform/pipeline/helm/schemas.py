"""Kubernetes JSON schemas from the pinned OpenAPI document, and kubeconform over a render."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from hello_platform.core import paths, proc
from hello_platform.core.errors import PlatformError
from hello_platform.core.progress import say, step
from hello_platform.pipeline.helm.chart import CRD_KINDS

#: Bump when the OpenAPI -> JSON schema conversion changes (invalidates the cache).
SCHEMA_FORMAT = "1"

_INT_OR_STRING = {"anyOf": [{"type": "string"}, {"type": "integer"}]}
#: Definitions whose OpenAPI form is a bare ``string`` with a custom format.
_SCALARS = {
    "io.k8s.apimachinery.pkg.api.resource.Quantity": {
        "anyOf": [{"type": "string"}, {"type": "number"}]
    },
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": _INT_OR_STRING,
}
_DROP_KEYS = ("description", "format", "x-kubernetes-group-version-kind")


def kind_suffix(group: str, version: str) -> str:
    """kubeconform's file-name suffix: ``-v1``, ``-apps-v1``, ``-networking-v1`` ..."""
    return f"-{version}" if not group else f"-{group.split('.')[0]}-{version}"


def _convert(node: Any, *, strict: bool) -> Any:
    if isinstance(node, list):
        return [_convert(n, strict=strict) for n in node]
    if not isinstance(node, dict):
        return node
    if node.get("format") == "int-or-string":
        return _INT_OR_STRING
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROP_KEYS or key.startswith("x-kubernetes-"):
            continue
        if key == "properties":
            out[key] = {k: _convert(v, strict=strict) for k, v in value.items()}
        else:
            out[key] = _convert(value, strict=strict)
    if strict and "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


_REF = re.compile(r'"\$ref": "#/definitions/([^"]+)"')


def openapi_to_schemas(swagger: Mapping[str, Any], *, strict: bool = True) -> dict[str, Any]:
    """Kubernetes' OpenAPI v2 document -> ``{file name: standalone JSON schema}``, one per
    group/version/kind as kubeconform names them; each carries the definitions it references
    (transitively), so ``$ref``s resolve inside the file and recursion is fine."""
    raw = swagger.get("definitions") or {}
    defs = {name: _SCALARS.get(name) or _convert(node, strict=strict) for name, node in raw.items()}
    files: dict[str, Any] = {}
    for name, node in raw.items():
        for gvk in node.get("x-kubernetes-group-version-kind") or []:
            if gvk.get("kind", "").endswith("List") or name.startswith("io.k8s.apimachinery"):
                continue
            closure: dict[str, Any] = {}
            todo = [name]
            while todo:
                for ref in _REF.findall(json.dumps(defs[todo.pop()])):
                    if ref in defs and ref not in closure:
                        closure[ref] = defs[ref]
                        todo.append(ref)
            schema = {**defs[name], "definitions": dict(sorted(closure.items()))}
            fname = f"{gvk['kind'].lower()}{kind_suffix(gvk.get('group', ''), gvk['version'])}"
            files[fname + ".json"] = schema
    return files


def crd_schemas(crds: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """CustomResourceDefinitions -> ``{file name: strict JSON schema}`` per served version."""
    files: dict[str, Any] = {}
    for crd in crds:
        spec = crd["spec"]
        for version in spec.get("versions") or []:
            schema = (version.get("schema") or {}).get("openAPIV3Schema")
            if not schema or not version.get("served", True):
                continue
            name = spec["names"]["kind"].lower() + kind_suffix(spec["group"], version["name"])
            files[name + ".json"] = _convert(schema, strict=True)
    return files


#: The custom kinds our manifests hold, by the pinned tool whose module defines them in
#: ``manifests/crds`` (kind: file).
PINNED_CRDS: dict[str, dict[str, str]] = {
    "argocd": {"Application": "application-crd.yaml", "AppProject": "appproject-crd.yaml"},
    "argo-rollouts": {
        "Rollout": "rollout-crd.yaml",
        "AnalysisTemplate": "analysis-template-crd.yaml",
        "ClusterAnalysisTemplate": "cluster-analysis-template-crd.yaml",
        "AnalysisRun": "analysis-run-crd.yaml",
        "Experiment": "experiment-crd.yaml",
    },
}
PINNED_KINDS = frozenset(kind for kinds in PINNED_CRDS.values() for kind in kinds)


def pinned_crd_schemas(tool_name: str) -> Path:
    """Strict JSON schemas of the CRDs of pinned tool ``tool_name``, cached."""
    from hello_platform.pipeline.gitops.manifests import module_dir
    from hello_platform.toolchain import pins

    tool = pins.load().tools[tool_name]
    target = schema_root() / f"{tool_name}-{tool.version}"
    if not _fresh(target):
        module = module_dir(tool.module, tool.module_version, pinned=tool.go_toolchain)
        crd_dir = module / "manifests" / "crds"
        files = PINNED_CRDS[tool_name].values()
        _write(target, crd_schemas(yaml.safe_load((crd_dir / f).read_text()) for f in files))
    return target


def custom_schemas(manifests: str) -> list[Path]:
    """The schema folders of the pinned CRDs whose kinds ``manifests`` hold."""
    kinds = set(re.findall(r"(?m)^kind: (\S+)", manifests))
    return [
        pinned_crd_schemas(tool)
        for tool, defined in sorted(PINNED_CRDS.items())
        if kinds & defined.keys()
    ]


def openapi_document(version: str) -> Path:
    """``swagger.json`` of Kubernetes ``version`` from the Go module cache (downloads it)."""
    from hello_platform.toolchain import gobuild

    go = gobuild.find_go()
    if go is None:
        raise PlatformError(
            "generating Kubernetes schemas needs Go (for the k8s.io/kubernetes "
            "module's OpenAPI document), which was not found",
            hint="install Go and put it on PATH, or set HELLO_PLATFORM_GO",
        )
    module = f"k8s.io/kubernetes@v{version}"
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            [go, "mod", "download", "-json", module],
            capture_output=True,
            text=True,
            cwd=tmp,
            env=gobuild.go_env(),
            check=False,
            timeout=1800,
        )
    try:
        info = json.loads(done.stdout or "{}")
    except ValueError:
        info = {}
    if done.returncode != 0 or "Dir" not in info:
        why = info.get("Error") or proc.last_line(done.stderr)
        raise PlatformError(
            f"could not fetch {module} for its OpenAPI document: {why}",
            hint="check that the Go module proxy is reachable",
        )
    spec = Path(info["Dir"]) / "api" / "openapi-spec" / "swagger.json"
    if not spec.is_file():
        raise PlatformError(
            f"{module} has no api/openapi-spec/swagger.json",
            hint="pin a Kubernetes release in toolchain.toml",
        )
    return spec


def schema_root() -> Path:
    return paths.cache_dir() / "kube-schemas"


def _fresh(target: Path) -> bool:
    stamp = target / ".complete"
    return stamp.is_file() and stamp.read_text().strip() == SCHEMA_FORMAT


def _write(target: Path, files: Mapping[str, Any]) -> None:
    """The schema folder ``target`` replaced as a whole, its stamp written last."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{target.name}-", dir=target.parent))
    for name, schema in files.items():
        (tmp / name).write_text(json.dumps(schema, separators=(",", ":")))
    (tmp / ".complete").write_text(SCHEMA_FORMAT + "\n")
    if target.exists():
        old = target.with_name(f".old-{target.name}-{os.getpid()}")
        target.rename(old)
        shutil.rmtree(old, ignore_errors=True)
    tmp.rename(target)


def ensure_schemas(version: str, *, spec: Path | None = None) -> Path:
    """Generate (once) and return the strict JSON schemas of Kubernetes ``version``."""
    target = schema_root() / f"v{version}-standalone-strict"  # kubeconform's layout
    if _fresh(target):
        return target
    with step(f"generating Kubernetes {version} JSON schemas from its OpenAPI document"):
        files = openapi_to_schemas(json.loads((spec or openapi_document(version)).read_text()))
        _write(target, files)
        say(f"{len(files)} schemas in {target}")
    return target


_KUBECONFORM_NOISE = re.compile(
    r"problem validating schema\. Check JSON formatting: jsonschema validation failed with "
    r"'[^']*' - "
)


@dataclass(frozen=True)
class Validation:
    valid: int
    skipped: int
    summary: str


def _argv(kubeconform: Path, version: str, extra_schemas: Sequence[Path]) -> list[str]:
    """kubeconform, strict with a JSON report, reading the manifests from stdin."""
    location = str(schema_root()) + (
        "/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}"
        "/{{ .ResourceKind }}{{ .KindSuffix }}.json"
    )
    extra = [f"{d}/{{{{ .ResourceKind }}}}{{{{ .KindSuffix }}}}.json" for d in extra_schemas]
    cmd = [str(kubeconform), "-strict", "-summary", "-output", "json"]
    cmd += ["-kubernetes-version", version]
    for loc in (location, *extra):
        cmd += ["-schema-location", loc]
    return [*cmd, "-skip", ",".join(CRD_KINDS), "-"]


def validate(
    kubeconform: Path,
    manifests: str,
    *,
    version: str,
    what: str,
) -> Validation:
    """kubeconform -strict over ``manifests`` (custom resources of pinned tools against their
    CRDs' schemas); a PlatformError lists every invalid resource."""
    cmd = _argv(kubeconform, version, custom_schemas(manifests))
    try:
        done = subprocess.run(
            cmd, input=manifests, capture_output=True, text=True, timeout=120, check=False
        )
    except FileNotFoundError as exc:
        raise PlatformError(
            f"'{kubeconform}' does not exist", hint="run 'nox -s tools -- kubeconform'"
        ) from exc
    try:
        report = json.loads(done.stdout)
    except ValueError as exc:
        raise PlatformError(
            f"kubeconform gave no report for {what}: {(done.stderr or done.stdout).strip()[-300:]}"
        ) from exc
    problems = [
        f"{r.get('kind')}/{r.get('name')}: {_KUBECONFORM_NOISE.sub('', str(r.get('msg')))}"
        for r in report.get("resources") or []
        if r.get("status") in ("statusInvalid", "statusError")
    ]
    summary = report.get("summary") or {}
    if problems or done.returncode != 0:
        raise PlatformError(
            f"{what} renders manifests that Kubernetes {version} rejects: "
            + "; ".join(problems or [done.stderr.strip()[-300:]]),
            hint="fix the template or values that produce them",
        )
    return Validation(
        int(summary.get("valid", 0)),
        int(summary.get("skipped", 0)),
        f"{summary.get('valid', 0)} valid, {summary.get('skipped', 0)} skipped",
    )
